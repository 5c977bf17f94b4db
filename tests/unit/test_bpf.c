/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_bpf.c - the BPF collection path against a live victim.
 *
 * Pure parts first (emitter, record walker, spec validation), then the
 * real thing: a victim program compiled on the fly (non-PIE and PIE, two
 * threads calling victim(i, 2 * i, buf) every millisecond) gets a uprobe
 * with a generated collection program; the records must carry the right
 * registers and memory, the counters must agree with the records, the
 * victim must never be stopped or traced, and the breakpoint must be gone
 * after detach and after the death of the process holding the probe.
 *
 * Needs root and BPF.  Without BPF it exits 77 (skip), except under
 * CI=true where a skipped BPF test is a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "tests/unit/bpf_env.h"
#include "tests/unit/bpf_victim.h"
#include "tests/unit/check.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/collect.h"
#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/probe.h"
#include "bpf/reap.h"
#include "bpf/record.h"
#include "bpf/ring.h"

struct tctx {
	int pass, fail;
	char dir[64]; /* scratch directory for the victims */
};

#define CHECK TCHECK

static const char victim_src[] =
	"#include <pthread.h>\n"
	"#include <stdio.h>\n"
	"#include <unistd.h>\n"
	"char vbuf[64] = \"bpfstub victim buffer: 0123456789abcdefghijklmnop\";\n"
	"char vtag[16] = \"ABSOLUTE-GLOBAL\";\n"
	"volatile long vsink;\n"
	"__attribute__((noinline)) int victim(long a, long b, char *buf)\n"
	"{\n"
	"	vsink += a + b + buf[0];\n"
	"	return (int)vsink;\n"
	"}\n"
	"static void *loop(void *arg)\n"
	"{\n"
	"	long i;\n"
	"	for (i = (long)arg;; i++) {\n"
	"		victim(i, 2 * i, vbuf);\n"
	"		usleep(1000);\n"
	"	}\n"
	"	return NULL;\n"
	"}\n"
	"int main(void)\n"
	"{\n"
	"	pthread_t th;\n"
	"	pthread_create(&th, NULL, loop, (void *)1000000L);\n"
	"	printf(\"ready\\n\");\n"
	"	fflush(stdout);\n"
	"	loop(NULL);\n"
	"	return 0;\n"
	"}\n";

#define VBUF "bpfstub victim buffer: 0123456789abcdefghijklmnop"
#define VTAG "ABSOLUTE-GLOBAL"

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- pure parts ---- */

struct walk {
	int nregs, nmem;
	__u64 maddr[4];
	size_t mlen[4];
	const unsigned char *mdata[4];
	const unsigned char *regs;
};

static int on_block(void *ctx, char type, const void *blk, size_t len)
{
	struct walk *w = ctx;

	if (type == BPFC_BLK_REGS) {
		w->nregs++;
		w->regs = blk;
		return len == BPFC_REGS_SIZE ? 0 : -EPROTO;
	}
	if (w->nmem < 4) {
		const void *d;

		if (bpfc_rec__mem(blk, len, &w->maddr[w->nmem], &d, &w->mlen[w->nmem]))
			return -EPROTO;
		w->mdata[w->nmem] = d;
	}
	w->nmem++;
	return 0;
}

static size_t put_m(unsigned char *p, char type, __u64 addr, const char *data, __u16 len)
{
	p[0] = (unsigned char)type;
	memcpy(p + 1, &addr, 8);
	memcpy(p + 9, &len, 2);
	memcpy(p + 11, data, len);
	return BPFC_MBLK_HDR + len;
}

static void test_pure(struct tctx *t)
{
	unsigned char rec[1024];
	struct bpfc_rec h = {.tp = 1};
	struct bpfc_emit e;
	struct walk w;
	size_t n = sizeof(h), nskip, len;
	struct bpf_insn *insns;
	int l, err, ok;

	/* Emitter: forward fixups, backward jumps and unbound labels rejected. */
	bpfc_emit__init(&e);
	l = bpfc_emit__label(&e);
	bpfc_emit__jmp(&e, BPF_JMP_IMM(BPF_JEQ, BPFC_R1, 0, 0), l);
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 1));
	bpfc_emit__ld_imm64(&e, BPFC_R2, 0, 0x1122334455667788ull);
	bpfc_emit__bind(&e, l);
	bpfc_emit__insn(&e, BPF_EXIT_INSN());
	err = bpfc_emit__finish(&e);
	insns = bpfc_emit__take(&e, &len);
	ok = !err && len == 5 && insns[0].off == 3 && insns[2].imm == 0x55667788 &&
	     insns[3].imm == 0x11223344;
	free(insns);
	bpfc_emit__free(&e);
	bpfc_emit__init(&e);
	l = bpfc_emit__label(&e);
	bpfc_emit__bind(&e, l);
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__jmp(&e, BPF_JMP_A(0), l);
	bpfc_emit__insn(&e, BPF_EXIT_INSN());
	ok = ok && bpfc_emit__finish(&e) == -EINVAL;
	bpfc_emit__free(&e);
	bpfc_emit__init(&e);
	l = bpfc_emit__label(&e);
	bpfc_emit__jmp(&e, BPF_JMP_A(0), l);
	bpfc_emit__insn(&e, BPF_EXIT_INSN());
	ok = ok && bpfc_emit__finish(&e) == -EINVAL;
	bpfc_emit__free(&e);
	CHECK(t, ok, "emitter: label fixups / error latch wrong");

	/* Record walker: R, M, skipped M; then malformed variants. */
	memset(rec, 0, sizeof(rec));
	rec[n++] = BPFC_BLK_REGS;
	n += BPFC_REGS_SIZE;
	n += put_m(rec + n, BPFC_BLK_MEM, 0x1000, "abcd", 4);
	n += put_m(rec + n, BPFC_BLK_SKIP, 0x10, "\0\0\0\0\0\0\0\0", 8);
	n += put_m(rec + n, BPFC_BLK_MEM, 0x2000, "", 0);
	h.size = (__u32)(n - sizeof(h));
	memcpy(rec, &h, sizeof(h));
	memset(&w, 0, sizeof(w));
	err = bpfc_rec__foreach_block(rec, n, on_block, &w, &nskip);
	ok = !err && w.nregs == 1 && w.nmem == 2 && nskip == 1 && w.maddr[0] == 0x1000 &&
	     w.mlen[0] == 4 && !memcmp(w.mdata[0], "abcd", 4) && w.maddr[1] == 0x2000 &&
	     w.mlen[1] == 0;
	/*
	 * Truncated anywhere: a cut inside a block is -EBADMSG, a cut at a
	 * block boundary is a shorter, valid record.
	 */
	for (len = 0; len < n && ok; len++) {
		static const size_t cuts[] = {sizeof(h), sizeof(h) + 561, sizeof(h) + 576,
					      sizeof(h) + 595};
		bool at_cut = false;
		size_t c;

		for (c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++)
			at_cut |= len == cuts[c];
		h.size = (__u32)(len > sizeof(h) ? len - sizeof(h) : 0);
		memcpy(rec, &h, sizeof(h));
		memset(&w, 0, sizeof(w));
		err = bpfc_rec__foreach_block(rec, len, on_block, &w, NULL);
		if (len < sizeof(h) ? err != -EBADMSG : err != (at_cut ? 0 : -EBADMSG))
			ok = 0;
	}
	h.size = (__u32)(n - sizeof(h) + 1); /* claims more than delivered */
	memcpy(rec, &h, sizeof(h));
	ok = ok && bpfc_rec__foreach_block(rec, n, on_block, &w, NULL) == -EBADMSG;
	h.size = (__u32)(n - sizeof(h));
	memcpy(rec, &h, sizeof(h));
	rec[sizeof(h)] = 'X'; /* unknown block type */
	ok = ok && bpfc_rec__foreach_block(rec, n, on_block, &w, NULL) == -EBADMSG;
	ok = ok && bpfc_rec__foreach_block(NULL, 0, on_block, &w, NULL) == -EBADMSG;
	CHECK(t, ok, "record walker accepted a malformed record or misread a good one");

	/* An 'r' (pt_regs) block reaches the callback as GDB's 'R' layout. */
	{
		__u64 pt[BPFC_PTREGS_SIZE / 8], v;
		__u32 v4;
		size_t i;

		for (i = 0; i < BPFC_PTREGS_SIZE / 8; i++)
			pt[i] = 0x1111111111111111ull * (i + 1) + 0xa00000000ull;
		n = sizeof(h);
		rec[n++] = BPFC_BLK_PTREGS;
		memcpy(rec + n, pt, sizeof(pt));
		n += sizeof(pt);
		h.size = (__u32)(n - sizeof(h));
		memcpy(rec, &h, sizeof(h));
		memset(&w, 0, sizeof(w));
		err = bpfc_rec__foreach_block(rec, n, on_block, &w, NULL);
		ok = !err && w.nregs == 1 && w.nmem == 0;
		/* pt_regs slots: r15 0, bp 4, ax 10, ip 16, cs 17, flags 18, sp 19, ss 20. */
		if (ok) {
			memcpy(&v, w.regs + 0 * 8, 8); /* rax */
			ok = ok && v == pt[10];
			memcpy(&v, w.regs + 6 * 8, 8); /* rbp */
			ok = ok && v == pt[4];
			memcpy(&v, w.regs + 7 * 8, 8); /* rsp */
			ok = ok && v == pt[19];
			memcpy(&v, w.regs + 15 * 8, 8); /* r15 */
			ok = ok && v == pt[0];
			memcpy(&v, w.regs + BPFC_REGS_OFF_RIP, 8);
			ok = ok && v == pt[16];
			memcpy(&v4, w.regs + BPFC_REGS_OFF_EFL, 4);
			ok = ok && v4 == (__u32)pt[18];
			memcpy(&v4, w.regs + BPFC_REGS_OFF_CS, 4);
			ok = ok && v4 == (__u32)pt[17];
			memcpy(&v4, w.regs + BPFC_REGS_OFF_SS, 4);
			ok = ok && v4 == (__u32)pt[20];
			memcpy(&v, w.regs + BPFC_REGS_OFF_ORIG, 8);
			ok = ok && v == pt[15];
			for (i = BPFC_REGS_OFF_DS; i < BPFC_REGS_OFF_ORIG; i++)
				ok = ok && !w.regs[i];
			for (i = BPFC_REGS_OFF_FSB; i < BPFC_REGS_SIZE; i++)
				ok = ok && !w.regs[i];
		}
		/* Truncated inside the r block (the header agrees). */
		h.size--;
		memcpy(rec, &h, sizeof(h));
		ok = ok && bpfc_rec__foreach_block(rec, n - 1, on_block, &w, NULL) == -EBADMSG;
		CHECK(t, ok, "pt_regs block not expanded into GDB's register layout");
	}

	{
		size_t sz;

		ok = bpfc_regs__offset(16, &sz) == BPFC_REGS_OFF_RIP && sz == 8 &&
		     bpfc_regs__offset(17, &sz) == BPFC_REGS_OFF_EFL && sz == 4 &&
		     bpfc_regs__offset(20, NULL) == BPFC_REGS_OFF_DS &&
		     bpfc_regs__offset(57, NULL) == BPFC_REGS_OFF_ORIG &&
		     bpfc_regs__offset(58, NULL) == BPFC_REGS_OFF_FSB &&
		     bpfc_regs__offset(59, &sz) + (int)sz == BPFC_REGS_SIZE &&
		     bpfc_regs__offset(60, NULL) < 0 && bpfc_regs__offset(-1, NULL) < 0;
		CHECK(t, ok, "register block layout");
	}
}

/* ---- the live victim ---- */

/* Start of the mapping of path at file offset 0 in pid. */
static int load_base(pid_t pid, const char *path, __u64 *base)
{
	char fname[64], line[1024];
	unsigned long long s, e, off;
	int err = -ENOENT, n;
	FILE *f;

	snprintf(fname, sizeof(fname), "/proc/%d/maps", (int)pid);
	f = fopen(fname, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		n = 0;
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &s, &e, &off, &n) < 3 || !n)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (off == 0 && !strcmp(line + n, path)) {
			*base = s;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

static ssize_t read_mem(pid_t pid, __u64 addr, void *buf, size_t len)
{
	char fname[64];
	ssize_t n;
	int fd;

	snprintf(fname, sizeof(fname), "/proc/%d/mem", (int)pid);
	fd = open(fname, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, (off_t)addr);
	if (n < 0)
		n = -errno;
	close(fd);
	return n;
}

/* 1 if no thread of pid is stopped or traced, and TracerPid is 0. */
static int not_stopped(pid_t pid, int *nthreads)
{
	char path[300], buf[512], *p;
	struct dirent *d;
	int ok = 1, fd;
	ssize_t n;
	DIR *dir;

	*nthreads = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && (p[2] == 't' || p[2] == 'T'))
			ok = 0;
		(*nthreads)++;
	}
	closedir(dir);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "TracerPid:");
	if (!p || strtol(p + 10, NULL, 10) != 0)
		ok = 0;
	return ok;
}

/* Expectations and findings for one phase of records. */
struct rx {
	__u32 tp;
	pid_t pid;
	__u64 rip, vtag, vbuf;
	bool full; /* the three-range spec of phase 1 */
	size_t n, bad_hdr, bad_rip, bad_args, bad_regs, bad_mem, bad_skip, bad_walk;
	pid_t tids[8];
	size_t ntids;
};

struct env {
	struct bpfc_ring *ring;
	int counters;
	struct victim_recs recs; /* what the ring delivered since the last take() */
};

/* Check one record against rx. */
static void rx_add(struct rx *rx, const unsigned char *data, size_t len)
{
	struct bpfc_rec h;
	struct walk w;
	size_t nskip = 0, i;
	__u64 rip, rdi, rsi, rdx;
	__u32 cs, ss;

	rx->n++;
	if (len < sizeof(h)) {
		rx->bad_hdr++;
		return;
	}
	memcpy(&h, data, sizeof(h));
	if (h.tp != rx->tp || h.size != len - sizeof(h) || (pid_t)h.pid != rx->pid || !h.ktime_ns)
		rx->bad_hdr++;
	for (i = 0; i < rx->ntids && rx->tids[i] != (pid_t)h.tid; i++)
		;
	if (i == rx->ntids && i < 8)
		rx->tids[rx->ntids++] = (pid_t)h.tid;
	memset(&w, 0, sizeof(w));
	if (bpfc_rec__foreach_block(data, len, on_block, &w, &nskip) || w.nregs != 1) {
		rx->bad_walk++;
		return;
	}
	memcpy(&rip, w.regs + BPFC_REGS_OFF_RIP, 8);
	memcpy(&rdi, w.regs + 5 * 8, 8);
	memcpy(&rsi, w.regs + 4 * 8, 8);
	memcpy(&rdx, w.regs + 3 * 8, 8);
	if (rip != rx->rip)
		rx->bad_rip++;
	if (rsi != 2 * rdi || rdx != rx->vbuf)
		rx->bad_args++;
	/* User-mode selectors in the 4-byte slots; nothing past orig_rax. */
	memcpy(&cs, w.regs + BPFC_REGS_OFF_CS, 4);
	memcpy(&ss, w.regs + BPFC_REGS_OFF_SS, 4);
	for (i = BPFC_REGS_OFF_DS; i < BPFC_REGS_OFF_ORIG && !w.regs[i]; i++)
		;
	if (cs != 0x33 || ss != 0x2b || i != BPFC_REGS_OFF_ORIG)
		rx->bad_regs++;
	if (!rx->full)
		return;
	if (w.nmem != 2 || w.maddr[0] != rx->vtag || w.mlen[0] != 16 ||
	    memcmp(w.mdata[0], VTAG, 16) || w.maddr[1] != rx->vbuf || w.mlen[1] != 16 ||
	    memcmp(w.mdata[1], VBUF, 16))
		rx->bad_mem++;
	if (nskip != 1)
		rx->bad_skip++;
}

/*
 * Consume the ring: each record checked against rx (NULL: dropped), with
 * what earlier drains left; consume's count or -errno.
 */
static int take(struct env *env, struct rx *rx)
{
	int n = bpfc_ring__consume(env->ring);
	size_t i;

	for (i = 0; rx && i < env->recs.n; i++)
		rx_add(rx, env->recs.rec[i].data, env->recs.rec[i].len);
	victim_recs__clear(&env->recs);
	return n;
}

static void rx_init(struct rx *rx, __u32 tp, pid_t pid, __u64 rip, __u64 vtag, __u64 vbuf,
		    bool full)
{
	memset(rx, 0, sizeof(*rx));
	rx->tp = tp;
	rx->pid = pid;
	rx->rip = rip;
	rx->vtag = vtag;
	rx->vbuf = vbuf;
	rx->full = full;
}

static void rx_check(struct tctx *t, const char *what, const struct rx *rx)
{
	CHECK(t, rx->n > 0 && !rx->bad_hdr && !rx->bad_walk,
	      "%s: %zu records, %zu bad headers (tp/size/pid/time), %zu unparsable", what, rx->n,
	      rx->bad_hdr, rx->bad_walk);
	CHECK(t, rx->n > 0 && !rx->bad_rip && !rx->bad_args && !rx->bad_regs,
	      "%s: %zu records with rip != 0x%llx, %zu with rsi != 2*rdi or rdx != buf, %zu with "
	      "cs/ss not 0x33/0x2b or non-zero unfilled registers",
	      what, rx->bad_rip, (unsigned long long)rx->rip, rx->bad_args, rx->bad_regs);
}

static int make_prog(struct env *env, __u32 tp, __u32 slot, const struct bpfc_mem *mem, size_t nmem,
		     struct bpfc_prog *prog)
{
	struct bpfc_spec spec = {.tp = tp, .slot = slot, .mem = mem, .nmem = nmem};
	int err;

	err = bpfc_prog__build(&spec, bpfc_ring__map_fd(env->ring), env->counters, prog);
	if (err)
		return err;
	err = bpfc_prog__load(prog);
	if (err && prog->log)
		printf("verifier log:\n%s\n", prog->log);
	return err;
}

/*
 * bpfc_ring__drain() stops at each kind of budget, leaving the rest in the
 * ring, and a budget of the ring's size takes what is left: ~180 records
 * from the victim (its two threads call victim() every millisecond).
 */
static void test_drain_budget(struct tctx *t, struct env *env, pid_t pid, __u64 fn)
{
	const struct bpfc_ring_budget by_records = {.records = 5}, by_time = {.ns = 1},
				      by_bytes = {.bytes = 1}, all = {.bytes = 4u << 20};
	struct bpfc_counts cnt;
	struct bpfc_probe pr;
	struct bpfc_prog prog;
	bool more = false;
	char err[256];
	int r, n[4];

	memset(&prog, 0, sizeof(prog));
	prog.fd = -1;
	take(env, NULL);
	bpfc_counters__reset(env->counters, 6);
	r = make_prog(env, 10, 6, NULL, 0, &prog);
	if (!r)
		r = bpfc_probe__attach(&pr, pid, fn, prog.fd, BPFC_PROBE_PATH_AUTO, err,
				       sizeof(err));
	CHECK(t, !r, "drain budget: attach: %s", r ? err : "");
	if (r)
		goto cleanup;
	sleep_ms(100);
	bpfc_probe__detach(&pr);
	n[0] = bpfc_ring__drain(env->ring, &by_records, &more);
	CHECK(t, n[0] == 5 && more, "drain of 5 records: %d, more %d", n[0], more);
	n[1] = bpfc_ring__drain(env->ring, &by_time, &more);
	CHECK(t, n[1] == BPFC_RING_CLOCK_EVERY && more,
	      "drain of 1 ns: %d records (want %d, the clock's period), more %d", n[1],
	      BPFC_RING_CLOCK_EVERY, more);
	n[2] = bpfc_ring__drain(env->ring, &by_bytes, &more);
	CHECK(t, n[2] == 1 && more, "drain of 1 byte: %d records, more %d", n[2], more);
	n[3] = bpfc_ring__drain(env->ring, &all, &more);
	CHECK(t, n[3] > 0 && !more, "drain of the ring's size: %d records, more %d", n[3], more);
	r = bpfc_counters__read(env->counters, 6, &cnt);
	CHECK(t, !r && !cnt.drops && cnt.frames == (__u64)(n[0] + n[1] + n[2] + n[3]),
	      "drains took %d + %d + %d + %d records of %llu written (%llu drops)", n[0], n[1],
	      n[2], n[3], (unsigned long long)cnt.frames, (unsigned long long)cnt.drops);
	r = bpfc_ring__drain(env->ring, &by_records, &more);
	CHECK(t, r == 0 && !more, "drain of an empty ring: %d, more %d", r, more);
cleanup:
	bpfc_prog__free(&prog);
	victim_recs__clear(&env->recs);
}

static void test_spec_limits(struct tctx *t, struct env *env)
{
	/* header + r block + M header + fill = BPFC_REC_MAX exactly. */
	const __u32 fill = BPFC_REC_MAX - sizeof(struct bpfc_rec) - 1 - BPFC_PTREGS_SIZE - 11;
	struct bpfc_mem m = {BPFC_BASEREG_ABS, 0x1000, fill, 0};
	struct bpfc_spec spec = {.tp = 1, .slot = 0, .mem = &m, .nmem = 1};
	int ring = bpfc_ring__map_fd(env->ring);
	struct bpfc_prog prog;
	int r, r1, r2, r3, r4, r5;

	r1 = bpfc_prog__build(&spec, ring, env->counters, &prog);
	if (!r1)
		r1 = bpfc_prog__load(&prog);
	if (r1 && prog.log)
		printf("verifier log:\n%s\n", prog.log);
	bpfc_prog__free(&prog);
	m.len = fill + 1;
	r2 = bpfc_prog__build(&spec, ring, env->counters, &prog);
	bpfc_prog__free(&prog);
	m.len = BPFC_MEM_MAX + 1;
	spec.flags = BPFC_SPEC_NO_REGS;
	r3 = bpfc_prog__build(&spec, ring, env->counters, &prog);
	bpfc_prog__free(&prog);
	m.len = 8;
	m.basereg = 17;
	r4 = bpfc_prog__build(&spec, ring, env->counters, &prog);
	bpfc_prog__free(&prog);
	m.basereg = 7;
	spec.slot = 1000000;
	r5 = bpfc_prog__build(&spec, ring, env->counters, &prog);
	bpfc_prog__free(&prog);

	/* A program the verifier rejects (r0 unset at exit): -errno and a log. */
	memset(&prog, 0, sizeof(prog));
	prog.fd = -1;
	prog.insns = calloc(1, sizeof(*prog.insns));
	if (prog.insns) {
		prog.insns[0] = BPF_EXIT_INSN();
		prog.ninsns = 1;
	}
	r = bpfc_prog__load(&prog);
	CHECK(t, r < 0 && prog.log && strstr(prog.log, "R0"),
	      "bad program: load %d, log '%s' (want an error and a log naming R0)", r,
	      prog.log ? prog.log : "(none)");
	bpfc_prog__free(&prog);

	/* Clamped ranges (a stack window): every length the verifier accepts. */
	{
		static const __u32 lens[] = {0, 1, 512, 4096, 8192, 60000};
		size_t i;

		spec.flags = 0;
		spec.slot = 0;
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			m = (struct bpfc_mem){7 /* rsp */, 0, lens[i], BPFC_MEM_CLAMP};
			r = bpfc_prog__build(&spec, ring, env->counters, &prog);
			if (!r)
				r = bpfc_prog__load(&prog);
			if (r && prog.log)
				printf("verifier log:\n%s\n", prog.log);
			CHECK(t,
			      !r && prog.rec_size == sizeof(struct bpfc_rec) + 1 +
							     BPFC_PTREGS_SIZE + BPFC_VBLK_HDR +
							     lens[i],
			      "clamped range of %u bytes: %d, record %u", lens[i], r,
			      prog.rec_size);
			bpfc_prog__free(&prog);
		}
	}

	CHECK(t, r1 == 0 && r2 == -E2BIG && r3 == -E2BIG && r4 == -EINVAL && r5 == -EINVAL,
	      "spec limits: record of exactly BPFC_REC_MAX %d (want 0), one byte more %d "
	      "(-E2BIG), range > BPFC_MEM_MAX %d (-E2BIG), basereg 17 %d (-EINVAL), slot out "
	      "of range %d (-EINVAL)",
	      r1, r2, r3, r4, r5);
}

/* Fork a helper that attaches, report 0xcc while it lives, none after SIGKILL. */
static void test_killed_holder(struct tctx *t, pid_t pid, __u64 addr, __u8 orig, int prog_fd)
{
	int p[2], status, i;
	__u8 b = 0, during = 0;
	char c = 0;
	pid_t h;

	if (pipe2(p, O_CLOEXEC)) {
		CHECK(t, 0, "pipe: %s", strerror(errno));
		return;
	}
	h = fork();
	if (h < 0) {
		CHECK(t, 0, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (!h) {
		struct bpfc_probe pr;
		char err[256];

		close(p[0]);
		c = bpfc_probe__attach(&pr, pid, addr, prog_fd, BPFC_PROBE_PATH_AUTO, err,
				       sizeof(err))
			    ? 'E'
			    : 'A';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) == 1 && c == 'A' && read_mem(pid, addr, &during, 1) == 1) {
		kill(h, SIGKILL);
		waitpid(h, &status, 0);
		/* The kernel closes the dead holder's fds; give it a moment. */
		for (i = 0; i < 100; i++) {
			if (read_mem(pid, addr, &b, 1) == 1 && b == orig)
				break;
			sleep_ms(10);
		}
	} else {
		kill(h, SIGKILL);
		waitpid(h, &status, 0);
	}
	close(p[0]);
	CHECK(t, c == 'A' && during == 0xcc && b == orig,
	      "killed holder: attach '%c', byte while held 0x%02x (want 0xcc), after kill 0x%02x "
	      "(want 0x%02x)",
	      c, during, b, orig);
}

/*
 * A stop switch turned off stops its program at once, with the uprobe
 * still attached; the uprobe then goes through the reaper (bpf/reap.h),
 * whose patch shows the original code meanwhile; drain closes it.
 */
static void test_stop_reap(struct tctx *t, struct env *env, pid_t pid, __u64 fn, const __u8 *code)
{
	struct bpfc_spec spec = {.tp = 9, .slot = 5, .flags = BPFC_SPEC_NO_REGS};
	struct bpfc_stop sw = {.fd = -1, .id = 3};
	struct bpfc_counts c1, c2, c3;
	struct bpfc_probe pr;
	struct bpfc_prog prog = {.fd = -1};
	char err[256] = "";
	__u8 win[4], now[4];
	int r;

	sw.fd = bpfc_stop__create(16);
	CHECK(t, sw.fd >= 0, "stop map: %s", strerror(-sw.fd));
	if (sw.fd < 0)
		return;
	spec.stop = &sw;
	r = bpfc_stop__set(&sw, true);
	if (!r)
		r = bpfc_prog__build(&spec, bpfc_ring__map_fd(env->ring), env->counters, &prog);
	prog.multi = bpfc_probe__multi_ok();
	if (!r)
		r = bpfc_prog__load(&prog);
	if (!r)
		r = bpfc_probe__attach_ex(&pr, pid, fn, prog.fd, prog.multi, BPFC_PROBE_PATH_AUTO,
					  0, err, sizeof(err));
	CHECK(t, !r, "stop switch program (multi %d): %s %s", prog.multi, strerror(-r), err);
	if (r)
		goto cleanup;
	printf("bpf: info: uprobe_multi links: %s\n", prog.multi ? "yes" : "no");
	sleep_ms(100);
	bpfc_counters__read(env->counters, 5, &c1);
	bpfc_stop__set(&sw, false);
	bpfc_counters__read(env->counters, 5, &c2);
	sleep_ms(100);
	bpfc_counters__read(env->counters, 5, &c3);
	CHECK(t, c1.hits > 0 && c3.hits == c2.hits,
	      "stop switch: %llu hits on, %llu more after it was turned off",
	      (unsigned long long)c1.hits, (unsigned long long)(c3.hits - c2.hits));
	bpfc_reap__probe(&pr, (int)sw.id);
	CHECK(t, pr.link_fd < 0 && pr.perf_fd < 0, "reap left the probe's fds");
	read_mem(pid, fn - 2, win, sizeof(win));
	bpfc_reap__patch(pid, fn - 2, win, sizeof(win));
	CHECK(t, win[2] == code[0], "reap patch: 0x%02x, want 0x%02x", win[2], code[0]);
	bpfc_reap__drain();
	read_mem(pid, fn, now, sizeof(now));
	CHECK(t, !bpfc_reap__busy((int)sw.id) && !bpfc_reap__pending() && now[0] == code[0],
	      "after drain: busy %d, %zu pending, code 0x%02x (want 0x%02x)",
	      bpfc_reap__busy((int)sw.id), bpfc_reap__pending(), now[0], code[0]);
cleanup:
	bpfc_prog__free(&prog);
	close(sw.fd);
}

static void test_live(struct tctx *t, struct env *env)
{
	struct victim va = VICTIM_INIT, vb = VICTIM_INIT, vp = VICTIM_INIT;
	char path[128], pie[128], err[256];
	__u64 fn = 0, vtag = 0, vbuf = 0, base = 0;
	__u8 code[16], now[16];
	struct bpfc_probe pr;
	struct bpfc_prog prog, prog2, prog3;
	struct bpfc_counts cnt;
	struct rx rx;
	const __u8 *orig;
	size_t norig;
	int r, i, nthr, calm = 1, cons;
	struct bpfc_mem mem[3];

	memset(&prog, 0, sizeof(prog));
	memset(&prog2, 0, sizeof(prog2));
	memset(&prog3, 0, sizeof(prog3));
	prog.fd = prog2.fd = prog3.fd = -1;

	r = victim__build(t->dir, "victim", victim_src, "-no-pie -pthread", path, sizeof(path));
	if (!r)
		r = victim__build(t->dir, "victim-pie", victim_src, "-fPIE -pie -pthread", pie,
				  sizeof(pie));
	CHECK(t, !r, "cannot compile the victim with cc");
	if (r)
		return;
	r = victim__sym(path, "victim", &fn);
	if (!r)
		r = victim__sym(path, "vtag", &vtag);
	if (!r)
		r = victim__sym(path, "vbuf", &vbuf);
	if (!r)
		r = victim__launch(&va, path, false);
	if (!r)
		r = victim__launch(&vb, path, false);
	CHECK(t, !r, "cannot start the victim: %s", strerror(-r));
	if (r)
		goto cleanup;

	/* Not code: a data address, and an unmapped one. */
	r = bpfc_probe__attach(&pr, va.pid, vbuf, 0, BPFC_PROBE_PATH_AUTO, err, sizeof(err));
	{
		char want[128];

		snprintf(want, sizeof(want),
			 "address 0x%llx is not in an executable mapping of pid %d",
			 (unsigned long long)vbuf, (int)va.pid);
		CHECK(t, r == -ENOENT && !strcmp(err, want),
		      "attach at data: %d '%s' (want -ENOENT '%s')", r, err, want);
	}
	r = bpfc_probe__attach(&pr, va.pid, 0x10, 0, BPFC_PROBE_PATH_AUTO, err, sizeof(err));
	CHECK(t, r == -ENOENT, "attach at 0x10: %d '%s' (want -ENOENT)", r, err);

	/* Collector: absolute global, rdx+0, and an unmapped absolute range. */
	mem[0] = (struct bpfc_mem){BPFC_BASEREG_ABS, (__s64)vtag, 16, 0};
	mem[1] = (struct bpfc_mem){3 /* rdx */, 0, 16, 0};
	mem[2] = (struct bpfc_mem){BPFC_BASEREG_ABS, 0x10, 8, 0};
	r = make_prog(env, 7, 3, mem, 3, &prog);
	CHECK(t, !r, "build/load collector: %s", strerror(-r));
	if (r)
		goto cleanup;

	r = read_mem(va.pid, fn, code, sizeof(code)) == sizeof(code) ? 0 : -EIO;
	if (!r)
		r = bpfc_probe__attach(&pr, va.pid, fn, prog.fd, BPFC_PROBE_PATH_MAP_FILES, err,
				       sizeof(err));
	CHECK(t, !r, "attach at victim (map_files): %s", err);
	if (r)
		goto cleanup;
	orig = bpfc_probe__orig_bytes(&pr, &norig);
	memset(now, 0, sizeof(now));
	read_mem(va.pid, fn, now, sizeof(now));
	CHECK(t, norig == 16 && !memcmp(orig, code, 16) && now[0] == 0xcc,
	      "orig bytes (%zu) differ from live code before attach, or no int3 while attached "
	      "(0x%02x)",
	      norig, now[0]);
	{
		__u8 win[8];

		read_mem(va.pid, fn - 4, win, sizeof(win));
		bpfc_probe__patch(&pr, fn - 4, win, sizeof(win));
		CHECK(t, win[4] == orig[0], "patch did not restore the original byte");
	}

	for (i = 0; i < 40; i++) {
		if (!not_stopped(va.pid, &nthr))
			calm = 0;
		sleep_ms(5);
	}
	bpfc_probe__detach(&pr);
	CHECK(t, calm && nthr == 2, "victim stopped or traced while probed (threads %d)", nthr);
	r = read_mem(va.pid, fn, now, sizeof(now)) == sizeof(now) && !memcmp(now, orig, 16);
	CHECK(t, r, "code bytes after detach are not the original (0x%02x)", now[0]);

	rx_init(&rx, 7, va.pid, fn, vtag, vbuf, true);
	cons = take(env, &rx);
	rx_check(t, "map_files", &rx);
	CHECK(t, rx.n > 0 && !rx.bad_mem && !rx.bad_skip,
	      "%zu records with wrong M blocks, %zu without the skipped block", rx.bad_mem,
	      rx.bad_skip);
	CHECK(t, rx.ntids == 2, "records from %zu threads (want 2: the probe covers all threads)",
	      rx.ntids);
	r = bpfc_counters__read(env->counters, 3, &cnt);
	printf("bpf: info: %zu records from %zu threads in 200 ms; hits %llu frames %llu drops "
	       "%llu\n",
	       rx.n, rx.ntids, (unsigned long long)cnt.hits, (unsigned long long)cnt.frames,
	       (unsigned long long)cnt.drops);
	CHECK(t,
	      !r && cnt.hits == cnt.frames + cnt.drops && cnt.frames == rx.n &&
		      (size_t)cons == rx.n,
	      "counters: %d hits %llu frames %llu drops %llu, records %zu, consume %d", r,
	      (unsigned long long)cnt.hits, (unsigned long long)cnt.frames,
	      (unsigned long long)cnt.drops, rx.n, cons);

	test_drain_budget(t, env, va.pid, fn);

	/* The real path (/proc/PID/root/PATH) works too; only va is probed. */
	r = make_prog(env, 8, 4, NULL, 0, &prog2);
	if (!r)
		r = bpfc_probe__attach(&pr, va.pid, fn, prog2.fd, BPFC_PROBE_PATH_REAL, err,
				       sizeof(err));
	CHECK(t, !r, "attach with the real path: %s", r ? err : "");
	if (!r) {
		sleep_ms(50);
		bpfc_probe__detach(&pr);
	}
	rx_init(&rx, 8, va.pid, fn, vtag, vbuf, false);
	take(env, &rx);
	rx_check(t, "real path", &rx);

	test_killed_holder(t, va.pid, fn, code[0], prog.fd);
	take(env, NULL);
	test_stop_reap(t, env, va.pid, fn, code);
	take(env, NULL);

	/* PIE: runtime address = load base + symbol value. */
	r = victim__sym(pie, "victim", &fn);
	if (!r)
		r = victim__sym(pie, "vtag", &vtag);
	if (!r)
		r = victim__sym(pie, "vbuf", &vbuf);
	if (!r)
		r = victim__launch(&vp, pie, false);
	if (!r)
		r = load_base(vp.pid, pie, &base);
	if (!r) {
		r = make_prog(env, 9, 5, NULL, 0, &prog3);
		if (!r)
			r = bpfc_probe__attach(&pr, vp.pid, base + fn, prog3.fd,
					       BPFC_PROBE_PATH_AUTO, err, sizeof(err));
		if (r)
			printf("pie: %s\n", err);
	}
	CHECK(t, !r && base, "PIE victim: attach at base 0x%llx + 0x%llx: %s",
	      (unsigned long long)base, (unsigned long long)fn, strerror(-r));
	if (!r) {
		sleep_ms(50);
		bpfc_probe__detach(&pr);
		rx_init(&rx, 9, vp.pid, base + fn, base + vtag, base + vbuf, false);
		take(env, &rx);
		rx_check(t, "PIE", &rx);
	}

	/* A pid that no longer exists. */
	{
		pid_t gone = vb.pid;

		victim__reap(&vb);
		r = bpfc_probe__attach(&pr, gone, fn, prog.fd, BPFC_PROBE_PATH_AUTO, err,
				       sizeof(err));
		CHECK(t, r == -ESRCH, "attach to a dead pid: %d '%s' (want -ESRCH)", r, err);
		r = bpfc_probe__attach(&pr, -1, fn, prog.fd, BPFC_PROBE_PATH_AUTO, err,
				       sizeof(err));
		CHECK(t, r == -ESRCH, "attach to pid -1: %d '%s' (want -ESRCH)", r, err);
	}
cleanup:
	take(env, NULL);
	bpfc_prog__free(&prog);
	bpfc_prog__free(&prog2);
	bpfc_prog__free(&prog3);
	victim__reap(&va);
	victim__reap(&vb);
	victim__reap(&vp);
}

int main(void)
{
	struct tctx t = {0};
	struct env env = {.ring = NULL, .counters = -1};
	char cmd[128];
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_pure(&t);

	r = bpf_available("bpf");
	if (r == -EPERM || r == -ENOSYS || r == -EACCES) {
		const char *ci = getenv("CI");

		printf("bpf: %d passed, %d failed (live tests skipped)\n", t.pass, t.fail);
		if (ci && !strcmp(ci, "true"))
			return 1;
		return t.fail ? 1 : 77;
	}
	CHECK(&t, !r, "bpf() failed: %s", strerror(-r));

	snprintf(t.dir, sizeof(t.dir), "/tmp/bpfstub-test-XXXXXX");
	if (!mkdtemp(t.dir)) {
		CHECK(&t, 0, "mkdtemp: %s", strerror(errno));
		goto out;
	}
	r = victim_recs__ring(&env.recs, &env.ring);
	CHECK(&t, !r, "ring buffer: %s", strerror(-r));
	env.counters = bpfc_counters__create(16);
	CHECK(&t, env.counters >= 0, "counters map: %s", strerror(-env.counters));
	if (!r && env.counters >= 0) {
		test_spec_limits(&t, &env);
		test_live(&t, &env);
	}
	bpfc_ring__free(env.ring);
	victim_recs__free(&env.recs);
	if (env.counters >= 0)
		close(env.counters);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t.dir);
	if (system(cmd))
		printf("cannot remove %s\n", t.dir);
out:
	printf("bpf: %d passed, %d failed\n", t.pass, t.fail);
	return t.fail ? 1 : 0;
}
