/* SPDX-License-Identifier: MIT */
/*
 * bench/uprobe_cost.c - what a bpfstub tracepoint costs the traced program.
 *
 * Times a call to a small function in a tight loop, in this process, with
 *   (1) no probe,
 *   (2) a uprobe running an empty BPF program (r0 = 0; exit),
 *   (3) a uprobe running bpfstub's generated collector: the full register
 *       block (all pt_regs, so the arguments too) and a 64-byte memory
 *       range at the third argument (rdx), submitted without wakeup.
 * Rounds are interleaved (1, 2, 3, 1, 2, 3, ...) so drift hits all three
 * alike; the ring is drained between timed runs, never during them.
 * Reports medians of the per-call cost and the ratio (3) / (2): the goal
 * is that collecting costs little next to the uprobe trap itself.  With
 * `sysctl kernel.bpf_stats_enabled=1` it also prints the programs' own
 * average run time, which isolates the collector from trap noise.
 *
 *   cc -O2 -std=gnu11 -D_GNU_SOURCE -I. bench/uprobe_cost.c bpf/[a-z]*.c \
 *      -lbpf -lelf -lz -o uprobe_cost && sudo ./uprobe_cost [calls] [rounds] [xol]
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/collect.h"
#include "bpf/insn.h"
#include "bpf/probe.h"
#include "bpf/ring.h"

#define MAX_ROUNDS 101

enum { M_NONE, M_EMPTY, M_COLLECT, NMODES };

static const char *const mode_name[NMODES] = {"no probe", "empty prog", "collector"};

/*
 * The probed functions, in assembly so the first instruction is fixed:
 * x86 uprobes emulate `push %rbp` (the usual first instruction of code
 * built with frame pointers) but must single-step most others out of line
 * (a second trap), so both cases are measured.
 */
long bench_push(long a, long b, char *buf);
long bench_xol(long a, long b, char *buf);
__asm__(".text\n"
	".globl bench_push\n"
	".type bench_push, @function\n"
	"bench_push:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	movsbq (%rdx), %rax\n"
	"	add %rsi, %rdi\n"
	"	add %rdi, %rax\n"
	"	pop %rbp\n"
	"	ret\n"
	".size bench_push, . - bench_push\n"
	".globl bench_xol\n"
	".type bench_xol, @function\n"
	"bench_xol:\n"
	"	movsbq (%rdx), %rax\n"
	"	add %rsi, %rdi\n"
	"	add %rdi, %rax\n"
	"	ret\n"
	".size bench_xol, . - bench_xol\n");

typedef long (*bench_fn_t)(long a, long b, char *buf);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double time_calls(bench_fn_t fn, long n, char *buf)
{
	volatile long sink = 0;
	double t0;
	long i;

	for (i = 0; i < 100; i++) /* warm up */
		sink += fn(i, 2 * i, buf);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		sink += fn(i, 2 * i, buf);
	return (now_ns() - t0) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Average run time of a program, when kernel.bpf_stats_enabled is 1. */
static double prog_ns(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || !info.run_cnt)
		return 0;
	return (double)info.run_time_ns / (double)info.run_cnt;
}

static int count_cb(void *ctx, void *data, size_t len)
{
	(*(long *)ctx)++;
	return 0;
}

struct bench {
	struct bpfc_ring *ring;
	int empty_fd, collect_fd;
	long calls;
	int rounds;
};

static int run(struct bench *b, const char *what, bench_fn_t fn)
{
	double res[NMODES][MAX_ROUNDS], med[NMODES], ratio[MAX_ROUNDS], diff[MAX_ROUNDS];
	char buf[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
	__u64 addr = (__u64)(uintptr_t)fn;
	struct bpfc_probe pr;
	char err[256];
	int i, m, r;

	for (i = 0; i < b->rounds; i++) {
		for (int k = 0; k < NMODES; k++) {
			/* Rotate the order so no mode always runs first. */
			int fd;

			m = (k + i) % NMODES;
			fd = m == M_EMPTY ? b->empty_fd : b->collect_fd;

			if (m != M_NONE) {
				r = bpfc_probe__attach(&pr, getpid(), addr, fd,
						       BPFC_PROBE_PATH_AUTO, err, sizeof(err));
				if (r) {
					fprintf(stderr, "attach: %s\n", err);
					return r;
				}
			}
			res[m][i] = time_calls(fn, b->calls, buf);
			if (m != M_NONE)
				bpfc_probe__detach(&pr);
			bpfc_ring__consume(b->ring);
		}
	}
	/* Paired per round: the empty and collector runs of a round are adjacent in time. */
	for (i = 0; i < b->rounds; i++) {
		ratio[i] = res[M_COLLECT][i] / res[M_EMPTY][i];
		diff[i] = res[M_COLLECT][i] - res[M_EMPTY][i];
	}
	printf("%s:\n", what);
	for (m = 0; m < NMODES; m++) {
		med[m] = median(res[m], b->rounds);
		printf("  %-11s median %8.1f ns/call  (min %.1f, max %.1f)\n", mode_name[m], med[m],
		       res[m][0], res[m][b->rounds - 1]);
	}
	printf("  collector/empty: ratio of medians %.3f, median of paired ratios %.3f; "
	       "collector - empty: median paired %.1f ns\n",
	       med[M_COLLECT] / med[M_EMPTY], median(ratio, b->rounds), median(diff, b->rounds));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct bpf_insn empty[] = {BPF_MOV64_IMM(BPFC_R0, 0), BPF_EXIT_INSN()};
	struct bpfc_mem mem = {3 /* rdx */, 0, 64};
	struct bpfc_spec spec = {.tp = 1, .slot = 0, .mem = &mem, .nmem = 1};
	struct bench b = {.ring = NULL, .empty_fd = -1};
	struct bpfc_prog prog = {.fd = -1};
	struct bpfc_counts cnt;
	int counters = -1, ret = 1, r;
	long nrec = 0;
	cpu_set_t cpus;

	b.calls = argc > 1 ? atol(argv[1]) : 2000;
	b.rounds = argc > 2 ? atoi(argv[2]) : 41;
	if (b.calls < 1 || b.calls > 10000 || b.rounds < 1 || b.rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: %s [calls 1..10000] [rounds 1..%d]\n", argv[0], MAX_ROUNDS);
		return 2;
	}
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	/* The stub's ring size; 10000 records of 272 bytes fit: no drops in a timed run. */
	r = bpfc_ring__new(&b.ring, 4u << 20, count_cb, &nrec);
	if (r) {
		fprintf(stderr, "ring: %s\n", strerror(-r));
		goto cleanup;
	}
	counters = bpfc_counters__create(1);
	if (counters < 0) {
		fprintf(stderr, "counters: %s\n", strerror(-counters));
		goto cleanup;
	}
	b.empty_fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bpfc_empty", "GPL", empty, 2, NULL);
	if (b.empty_fd < 0) {
		fprintf(stderr, "empty prog: %s\n", strerror(-b.empty_fd));
		goto cleanup;
	}
	r = bpfc_prog__build(&spec, bpfc_ring__map_fd(b.ring), counters, &prog);
	if (!r)
		r = bpfc_prog__load(&prog);
	if (r) {
		fprintf(stderr, "collector: %s\n%s", strerror(-r), prog.log ? prog.log : "");
		goto cleanup;
	}
	b.collect_fd = prog.fd;
	printf("collector: %zu insns, %u-byte record; %ld calls x %d rounds, pid %d, cpu %d\n",
	       prog.ninsns, prog.rec_size, b.calls, b.rounds, (int)getpid(), sched_getcpu());

	if (run(&b, "probe on push %rbp (emulated)", bench_push) ||
	    run(&b, "probe on movsbq (single-stepped out of line)", bench_xol))
		goto cleanup;
	if (prog_ns(b.empty_fd) > 0)
		printf("program run time (bpf_stats, includes ~40 ns of stats overhead): empty "
		       "%.1f "
		       "ns, collector %.1f ns\n",
		       prog_ns(b.empty_fd), prog_ns(b.collect_fd));
	bpfc_counters__read(counters, 0, &cnt);
	printf("records %ld, hits %llu, frames %llu, drops %llu\n", nrec,
	       (unsigned long long)cnt.hits, (unsigned long long)cnt.frames,
	       (unsigned long long)cnt.drops);
	ret = 0;
cleanup:
	bpfc_prog__free(&prog);
	if (b.empty_fd >= 0)
		close(b.empty_fd);
	if (counters >= 0)
		close(counters);
	bpfc_ring__free(b.ring);
	return ret;
}
