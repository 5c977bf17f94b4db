/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_fpchain.c - the frame-pointer walk in the kernel
 * (bpf/fpchain.h): the block as the reader reports it, then the real
 * thing.
 *
 * Pure: hand-made FPCHAIN blocks walked by bpfc_rec__foreach_block (the
 * window and each record outside it as M blocks at the addresses the
 * chain gives, a wide window alone, malformed counts and lengths
 * refused).  Live: a victim built -O0 -fno-omit-frame-pointer recurses 50
 * deep through 100-byte frames (over 5 KiB of stack) to bottom(), and
 * three assembly functions call probe_me() with rbp misaligned, far above
 * rsp, and pointing at one record of zeros; programs with the walk
 * (64 frames, the largest shape, and a small one) must pass the verifier,
 * and the records must hold every frame of the recursion, return address
 * by return address, and fall back to the wide window on each garbage
 * rbp.
 *
 * Needs root and BPF: without it exits 77 (skip), except under CI=true.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_COUNTERS
#include "tests/unit/bpf_env.h"
#include "tests/unit/bpf_victim.h"
#include "tests/unit/check.h"

#include "bpf/collect.h"
#include "bpf/fpchain.h"
#include "bpf/probe.h"
#include "bpf/record.h"
#include "bpf/ring.h"

#define DEPTH 50

static const char victim_src[] =
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"#include <unistd.h>\n"
	"volatile long sink;\n"
	"__attribute__((noinline)) long bottom(long n) { return n + sink; }\n"
	"__attribute__((noinline)) long descend(long n)\n"
	"{\n"
	"	char pad[100];\n"
	"	long r;\n"
	"	memset(pad, (int)n, sizeof(pad));\n"
	"	r = n ? descend(n - 1) : bottom(pad[0]);\n"
	"	return r + pad[n % 100];\n"
	"}\n"
	"__attribute__((noinline)) void probe_me(void) { sink++; }\n"
	"void garbage_odd(void), garbage_far(void), garbage_one(void);\n"
	"__asm__(\".text\\n.globl garbage_odd\\ngarbage_odd:\\n push %rbp\\n"
	"	mov $0x1e8481, %rbp\\n call probe_me\\n pop %rbp\\n ret\\n"
	"	.globl garbage_far\\ngarbage_far:\\n push %rbp\\n"
	"	lea 0x2000000(%rsp), %rbp\\n call probe_me\\n pop %rbp\\n ret\\n"
	"	.globl garbage_one\\ngarbage_one:\\n push %rbp\\n push $0\\n push $0\\n"
	"	mov %rsp, %rbp\\n call probe_me\\n add $16, %rsp\\n pop %rbp\\n ret\\n\");\n"
	"int main(void)\n"
	"{\n"
	"	printf(\"ready\\n\");\n"
	"	fflush(stdout);\n"
	"	for (;;) {\n"
	"		sink = descend("
	"50"
	");\n"
	"		garbage_odd();\n"
	"		garbage_far();\n"
	"		garbage_one();\n"
	"		usleep(1000);\n"
	"	}\n"
	"}\n";

/* ---- pure: the reader ---- */

struct mblk {
	__u64 addr;
	size_t len;
	unsigned char data[2048];
};

struct seen {
	int n;
	struct mblk m[16];
};

static int on_m(void *ctx, char type, const void *blk, size_t len)
{
	struct seen *s = ctx;
	const void *d;
	__u64 addr;
	size_t n;

	if (type == BPFC_BLK_REGS)
		return 0;
	if (type != BPFC_BLK_MEM || bpfc_rec__mem(blk, len, &addr, &d, &n))
		return -EPROTO;
	if (s->n < 16 && n <= sizeof(s->m[0].data)) {
		s->m[s->n].addr = addr;
		s->m[s->n].len = n;
		memcpy(s->m[s->n].data, d, n);
	}
	s->n++;
	return 0;
}

static void put64(unsigned char *p, __u64 v)
{
	memcpy(p, &v, 8);
}

static void put16(unsigned char *p, __u16 v)
{
	memcpy(p, &v, 2);
}

/* A record: header, then one FPCHAIN block of cap records and wcap window bytes. */
static size_t make(unsigned char *buf, __u8 flags, __u8 n, __u8 cap, __u16 wcap, __u64 fp0,
		   __u64 rsp, __u16 wlen)
{
	struct bpfc_rec h = {0};
	unsigned char *b = buf + sizeof(h);
	size_t size = BPFC_FBLK_HDR + wcap + 16u * cap;

	memset(buf, 0, sizeof(h) + size);
	h.size = (__u32)size;
	memcpy(buf, &h, sizeof(h));
	b[0] = BPFC_BLK_FPCHAIN;
	b[BPFC_FBLK_OFF_FLAGS] = flags;
	b[BPFC_FBLK_OFF_N] = n;
	b[BPFC_FBLK_OFF_CAP] = cap;
	put16(b + BPFC_FBLK_OFF_WCAP, wcap);
	put64(b + BPFC_FBLK_OFF_FP0, fp0);
	put64(b + BPFC_FBLK_OFF_ADDR, rsp);
	put16(b + BPFC_FBLK_OFF_LEN, wlen);
	return sizeof(h) + size;
}

static unsigned char *rec_at(unsigned char *buf, __u16 wcap, unsigned k)
{
	return buf + sizeof(struct bpfc_rec) + BPFC_FBLK_HDR + wcap + 16u * k;
}

static void test_reader(void)
{
	static unsigned char buf[4096];
	struct bpfc_rec_stats st;
	struct seen s;
	size_t len;

	/* rsp 0x1000, a 64-byte window; records at 0x1010 (inside), 0x2000, 0x2100. */
	len = make(buf, 0, 3, 4, 64, 0x1010, 0x1000, 64);
	memset(buf + sizeof(struct bpfc_rec) + BPFC_FBLK_HDR, 0xaa, 64);
	put64(rec_at(buf, 64, 0), 0x2000);
	put64(rec_at(buf, 64, 0) + 8, 0x401111);
	put64(rec_at(buf, 64, 1), 0x2100);
	put64(rec_at(buf, 64, 1) + 8, 0x402222);
	put64(rec_at(buf, 64, 2), 0);
	put64(rec_at(buf, 64, 2) + 8, 0x403333);
	memset(&s, 0, sizeof(s));
	CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == 0);
	CHECKF(s.n == 3, "blocks: %d (want the window and two records)", s.n);
	CHECK(s.m[0].addr == 0x1000 && s.m[0].len == 64 && s.m[0].data[63] == 0xaa);
	CHECK(s.m[1].addr == 0x2000 && s.m[1].len == 16 &&
	      !memcmp(s.m[1].data, rec_at(buf, 64, 1), 16));
	CHECK(s.m[2].addr == 0x2100 && s.m[2].len == 16 &&
	      !memcmp(s.m[2].data + 8, "\x33\x33\x40\0\0\0\0\0", 8));
	CHECK(bpfc_rec__stats(buf, len, &st) == 0 && st.blocks == 3 && !st.skipped);
	/* The size the store reserves: each reported M block with its type byte. */
	CHECKF(st.out_bytes == 1 + 10 + 64 + 2 * (1 + 10 + 16), "out_bytes %zu", st.out_bytes);

	/* A record straddling the window's end is reported whole. */
	len = make(buf, 0, 1, 4, 64, 0x1038, 0x1000, 64);
	memset(&s, 0, sizeof(s));
	CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == 0 && s.n == 2 &&
	      s.m[1].addr == 0x1038);
	/* A short window (clamped at the stack's top): only what was read. */
	len = make(buf, 0, 0, 4, 64, 0, 0x1000, 24);
	memset(&s, 0, sizeof(s));
	CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == 0 && s.n == 1 &&
	      s.m[0].len == 24);
	/* Nothing read: no block at all. */
	len = make(buf, 0, 0, 4, 64, 0, 0x1000, 0);
	memset(&s, 0, sizeof(s));
	CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == 0 && s.n == 0);
	/* Wide: the whole area is the window, records ignored. */
	len = make(buf, BPFC_FBLK_WIDE, 0, 4, 64, 0x1010, 0x1000, 64 + 64);
	memset(&s, 0, sizeof(s));
	CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == 0 && s.n == 1 &&
	      s.m[0].len == 128);
	CHECK(bpfc_rec__stats(buf, len, &st) == 0 && st.out_bytes == 1 + 10 + 128);
	/* Malformed: n > cap, a window longer than reserved, a block past the record. */
	len = make(buf, 0, 5, 4, 64, 0x1010, 0x1000, 64);
	CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == -EBADMSG);
	len = make(buf, 0, 0, 4, 64, 0x1010, 0x1000, 65);
	CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == -EBADMSG);
	len = make(buf, BPFC_FBLK_WIDE, 0, 4, 64, 0x1010, 0x1000, 129);
	CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == -EBADMSG);
	len = make(buf, 0, 0, 4, 64, 0, 0x1000, 0);
	CHECK(bpfc_rec__foreach_block(buf, len - 1, on_m, &s, NULL) == -EBADMSG);
	for (len = sizeof(struct bpfc_rec) + 1; len < sizeof(struct bpfc_rec) + BPFC_FBLK_HDR;
	     len++) {
		struct bpfc_rec h = {.size = (__u32)(len - sizeof(struct bpfc_rec))};

		memcpy(buf, &h, sizeof(h));
		CHECK(bpfc_rec__foreach_block(buf, len, on_m, &s, NULL) == -EBADMSG);
	}
	/* Shapes the emitter takes. */
	{
		struct bpfc_fp ok = {64, 512}, f0 = {0, 512}, f65 = {65, 512}, w7 = {8, 7},
			       wbig = {8, BPFC_FP_WINDOW_MAX + 8}, wodd = {8, 12};

		CHECK(!bpfc_fp__check(&ok) && bpfc_fp__check(&f0) && bpfc_fp__check(&f65) &&
		      bpfc_fp__check(&w7) && bpfc_fp__check(&wbig) && bpfc_fp__check(&wodd) &&
		      bpfc_fp__check(NULL));
		CHECK(bpfc_fp__blk_size(&ok) == BPFC_FBLK_HDR + 512 + 1024);
	}
}

/* ---- live ---- */

/* The FPCHAIN block of a record with an r block first: its payload. */
static const unsigned char *fblock(const unsigned char *rec, size_t len)
{
	size_t off = sizeof(struct bpfc_rec) + 1 + BPFC_PTREGS_SIZE;

	if (len < off + BPFC_FBLK_HDR || rec[off] != BPFC_BLK_FPCHAIN)
		return NULL;
	return rec + off;
}

static __u64 get64(const unsigned char *p)
{
	__u64 v;

	memcpy(&v, p, 8);
	return v;
}

/* Attach a program with fp to addr in pid, collect a few hits into g. */
static int run(pid_t pid, __u64 addr, const struct bpfc_fp *fp, struct victim_recs *g, int counters,
	       struct bpfc_ring *ring)
{
	struct bpfc_spec spec = {.tp = 1, .slot = 0, .fp = fp};
	struct bpfc_ring_budget all = {0};
	struct bpfc_prog prog;
	struct bpfc_probe pr;
	char err[256];
	int r, i;

	r = bpfc_prog__build(&spec, bpfc_ring__map_fd(ring), counters, &prog);
	CHECKF(!r, "build: %s", prog.msg);
	if (r)
		return r;
	r = bpfc_prog__load(&prog);
	CHECKF(!r, "the verifier refused %zu instructions: %s: %.400s", prog.ninsns, strerror(-r),
	       prog.log ? prog.log : "");
	if (!r) {
		r = bpfc_probe__attach(&pr, pid, addr, prog.fd, BPFC_PROBE_PATH_AUTO, err,
				       sizeof(err));
		CHECKF(!r, "attach: %s", err);
	}
	if (!r) {
		for (i = 0; i < 100 && g->n < 4; i++) {
			usleep(10000);
			bpfc_ring__drain(ring, &all, NULL);
		}
		bpfc_probe__detach(&pr);
		bpfc_ring__drain(ring, &all, NULL);
		CHECKF(g->n >= 4, "records: %zu", g->n);
	}
	bpfc_prog__free(&prog);
	return r;
}

static void test_live(const char *dir)
{
	char path[160];
	__u64 bottom = 0, descend = 0, main_ = 0, probe_me = 0;
	struct bpfc_fp big = {BPFC_FP_FRAMES_MAX, 512}, small = {4, 64};
	struct bpfc_ring *ring = NULL;
	struct victim_recs g = {0};
	struct victim v = VICTIM_INIT;
	int counters, k, r;
	size_t i;
	pid_t pid;

	r = victim__build(dir, "fpvictim", victim_src,
			  "-fno-omit-frame-pointer -mno-red-zone -no-pie", path, sizeof(path));
	CHECKF(!r, "fpvictim: %s", strerror(-r));
	if (!r)
		r = victim__sym(path, "bottom", &bottom) ||
		    victim__sym(path, "descend", &descend) || victim__sym(path, "main", &main_) ||
		    victim__sym(path, "probe_me", &probe_me);
	CHECK(!r && bottom < descend && descend < main_);
	if (r)
		return;
	r = victim__launch(&v, path, false);
	CHECKF(!r, "launch: %s", strerror(-r));
	if (r)
		return;
	pid = v.pid;
	r = victim_recs__ring(&g, &ring);
	counters = bpfc_counters__create(4);
	CHECK(!r && counters >= 0);
	if (r || counters < 0)
		goto cleanup;

	/* The recursion: bottom's entry, rbp is descend(0)'s frame. */
	if (!run(pid, bottom, &big, &g, counters, ring)) {
		for (i = 0; i < g.n; i++) {
			const unsigned char *b = fblock(g.rec[i].data, g.rec[i].len);
			const unsigned char *area;
			unsigned n;
			__u64 at, rsp;

			CHECK(b != NULL);
			if (!b)
				break;
			n = b[BPFC_FBLK_OFF_N];
			rsp = get64(b + BPFC_FBLK_OFF_ADDR);
			area = b + BPFC_FBLK_HDR + 512;
			CHECKF(!b[BPFC_FBLK_OFF_FLAGS] && b[BPFC_FBLK_OFF_CAP] == 64 &&
				       get64(b + BPFC_FBLK_OFF_LEN) % 65536 == 512,
			       "flags %u cap %u", b[BPFC_FBLK_OFF_FLAGS], b[BPFC_FBLK_OFF_CAP]);
			/* descend(0..49) return into descend, descend(50) into main */
			CHECKF(n >= DEPTH + 2, "records %u (want at least %d)", n, DEPTH + 2);
			at = get64(b + BPFC_FBLK_OFF_FP0);
			CHECK(at > rsp && (at & 7) == 0);
			for (k = 0; k < DEPTH + 1 && k < (int)n; k++) {
				__u64 next = get64(area + 16 * k), ra = get64(area + 16 * k + 8);

				if (k < DEPTH)
					CHECKF(ra > descend && ra < main_, "record %d: ra 0x%llx",
					       k, (unsigned long long)ra);
				else
					CHECKF(ra > main_ && ra < main_ + 0x100,
					       "record %d: ra 0x%llx (want into main)", k,
					       (unsigned long long)ra);
				if (k < DEPTH)
					CHECK(next >= at + 16 + 100);
				at = next;
			}
			/* Every word of the frames arrives as M blocks. */
			{
				struct seen s = {0};

				CHECK(bpfc_rec__foreach_block(g.rec[i].data, g.rec[i].len, on_m, &s,
							      NULL) == 0);
				CHECKF(s.n >= DEPTH + 2 - 3, "M blocks %d", s.n);
			}
		}
	}
	victim_recs__clear(&g);

	/* A small walk stops at its bound: 4 records, none past it. */
	if (!run(pid, bottom, &small, &g, counters, ring))
		for (i = 0; i < g.n; i++) {
			const unsigned char *b = fblock(g.rec[i].data, g.rec[i].len);

			CHECK(b && b[BPFC_FBLK_OFF_N] == 4 && !b[BPFC_FBLK_OFF_FLAGS] &&
			      g.rec[i].len == sizeof(struct bpfc_rec) + 1 + BPFC_PTREGS_SIZE +
						      BPFC_FBLK_HDR + 64 + 64);
		}
	victim_recs__clear(&g);

	/* Garbage rbp: misaligned, 32 MiB above rsp, one record of zeros: the wide window. */
	if (!run(pid, probe_me, &big, &g, counters, ring)) {
		int odd = 0, far = 0, one = 0;

		for (i = 0; i < g.n; i++) {
			const unsigned char *b = fblock(g.rec[i].data, g.rec[i].len);
			__u64 rbp, rsp;
			__u16 wlen;

			CHECK(b != NULL);
			if (!b)
				break;
			rbp = get64(b + BPFC_FBLK_OFF_FP0);
			rsp = get64(b + BPFC_FBLK_OFF_ADDR);
			memcpy(&wlen, b + BPFC_FBLK_OFF_LEN, 2);
			odd += rbp == 0x1e8481;
			far += rbp > rsp + BPFC_FP_SPAN;
			one += rbp == rsp + 8;
			/* The whole window, or cut where the thread's stack mapping ends. */
			CHECKF(b[BPFC_FBLK_OFF_FLAGS] == BPFC_FBLK_WIDE &&
				       b[BPFC_FBLK_OFF_N] == 0 && wlen > 0 &&
				       (wlen == 512 + 16 * 64 ||
					(wlen < 512 + 16 * 64 && !((rsp + wlen) & 0xfff))),
			       "rbp 0x%llx rsp 0x%llx: flags %u n %u wlen %u",
			       (unsigned long long)rbp, (unsigned long long)rsp,
			       b[BPFC_FBLK_OFF_FLAGS], b[BPFC_FBLK_OFF_N], wlen);
		}
		CHECKF(odd && far && one, "hits: misaligned %d, far %d, one record %d", odd, far,
		       one);
	}
	victim_recs__clear(&g);

cleanup:
	if (counters >= 0)
		close(counters);
	bpfc_ring__free(ring);
	victim_recs__free(&g);
	victim__reap(&v);
}

int main(void)
{
	char dir[] = "/tmp/bpfstub-fpchain-XXXXXX", cmd[128];
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_reader();
	r = bpf_available("fpchain");
	if (r) {
		const char *ci = getenv("CI");

		check_summary("fpchain");
		if ((ci && !strcmp(ci, "true")) || n_fail)
			return 1;
		return 77;
	}
	if (!mkdtemp(dir)) {
		CHECKF(0, "mkdtemp: %s", strerror(errno));
		return check_summary("fpchain");
	}
	test_live(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("cannot remove %s\n", dir);
	return check_summary("fpchain");
}
