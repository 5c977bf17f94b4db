/* SPDX-License-Identifier: MIT */
/*
 * bench/uprobe_cost.c - what a bpfstub tracepoint costs the traced program.
 *
 * Times a call to a small function in a tight loop, in this process, with
 *   (1) no probe,
 *   (2) a uprobe running an empty BPF program (r0 = 0; exit),
 *   (3) a uprobe running bpfstub's generated collector: the full register
 *       block (all pt_regs, so the arguments too) and a 64-byte memory
 *       range at the third argument (rdx), submitted without wakeup,
 *   (4) a tracepoint whose condition (GDB's bytecode for "a > 2147483647")
 *       is false: the agent expression runs, nothing is collected,
 *   (5) a true condition ("a >= 0"), then the actions "collect *ptr@16"
 *       and "teval $c = $c + 1" as GDB sends them (an atomic add), no
 *       register block,
 *   (6) the same with the register block, as the stub builds it.
 * Rounds are interleaved (1, 2, 3, ..., 1, 2, 3, ...) so drift hits all
 * alike; the ring is drained between timed runs, never during them.
 * Reports medians of the per-call cost and the ratios (3..6) / (2): the
 * goal is that collecting costs little next to the uprobe trap itself
 * (for (4) at most 1.05, for (5) at most 1.15).  With
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

#include "bench/bench_push.h"

#include <bpf/bpf.h>

#include "bpf/collect.h"
#include "bpf/insn.h"
#include "bpf/probe.h"
#include "bpf/ring.h"

#define MAX_ROUNDS 101

enum { M_NONE, M_EMPTY, M_COLLECT, M_COND_FALSE, M_AX, M_AX_REGS, NMODES };

static const char *const mode_name[NMODES] = {"no probe",   "empty prog",   "collector",
					      "cond false", "cond+ptr+cnt", "  +regs"};

/*
 * The probed functions, in assembly so the first instruction is fixed:
 * x86 uprobes emulate `push %rbp` (the usual first instruction of code
 * built with frame pointers) but must single-step most others out of line
 * (a second trap), so both cases are measured.
 */
long bench_xol(long a, long b, char *buf);
__asm__(BENCH_PUSH_ASM ".globl bench_xol\n"
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
	int fd[NMODES]; /* the program of each mode (M_NONE: none) */
	long calls;
	int rounds;
};

static int run(struct bench *b, const char *what, bench_fn_t fn)
{
	double res[NMODES][MAX_ROUNDS], med[NMODES], ratio[MAX_ROUNDS], diff[MAX_ROUNDS];
	double oldres[MAX_ROUNDS];
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
			fd = b->fd[m];

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
	printf("%s:\n", what);
	for (m = 0; m < NMODES; m++) {
		memcpy(oldres, res[m], sizeof(oldres));
		med[m] = median(oldres, b->rounds);
		printf("  %-12s median %8.1f ns/call  (first round %.1f, last %.1f)\n",
		       mode_name[m], med[m], res[m][0], res[m][b->rounds - 1]);
	}
	/* Paired per round: the runs of a round are adjacent in time. */
	for (m = M_COLLECT; m < NMODES; m++) {
		for (i = 0; i < b->rounds; i++) {
			ratio[i] = res[m][i] / res[M_EMPTY][i];
			diff[i] = res[m][i] - res[M_EMPTY][i];
		}
		printf("  %-12s / empty: ratio of medians %.3f, median of paired ratios %.3f; "
		       "median paired difference %.1f ns\n",
		       mode_name[m], med[m] / med[M_EMPTY], median(ratio, b->rounds),
		       median(diff, b->rounds));
	}
	return 0;
}

/* GDB's bytecode for the modes with agent expressions (docs/qtdp-reference-O2.txt). */
static const unsigned char cond_false[] = {
	0x26, 0x00, 0x05, 0x16, 0x20, 0x24, 0x7f, 0xff, 0xff, 0xff, 0x2b, 0x14, 0x27,
}; /* reg rdi; ext 32; const32 0x7fffffff; swap; less_signed: a > 2147483647 */
static const unsigned char cond_true[] = {
	0x26, 0x00, 0x05, 0x16, 0x20, 0x22, 0x00, 0x14, 0x0e, 0x27,
}; /* reg rdi; ext 32; const8 0; less_signed; log_not: a >= 0 */
static const unsigned char ptr16[] = {
	0x26, 0x00, 0x03, 0x2a, 0x40, 0x22, 0x10, 0x0c, 0x27,
}; /* reg rdx; zero_ext 64; const8 16; trace: collect *ptr@16 */
static const unsigned char count[] = {
	0x2c, 0x00, 0x01, 0x22, 0x01, 0x02, 0x16, 0x40, 0x2d, 0x00, 0x01, 0x27,
}; /* getv 1; const8 1; add; ext 64; setv 1: teval $c = $c + 1 */

static int build(struct bench *b, struct bpfc_spec *spec, int counters, struct bpfc_prog *prog,
		 int mode)
{
	int r = bpfc_prog__build(spec, bpfc_ring__map_fd(b->ring), counters, prog);

	if (!r)
		r = bpfc_prog__load(prog);
	if (r) {
		fprintf(stderr, "%s: %s %s\n%s", mode_name[mode], strerror(-r), prog->msg,
			prog->log ? prog->log : "");
		return r;
	}
	b->fd[mode] = prog->fd;
	printf("%-12s: %4zu insns, %3u-byte record\n", mode_name[mode], prog->ninsns,
	       prog->rec_size);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct bpf_insn empty[] = {BPF_MOV64_IMM(BPFC_R0, 0), BPF_EXIT_INSN()};
	struct bpfc_expr cf = {cond_false, sizeof(cond_false)}, ct = {cond_true, sizeof(cond_true)};
	struct bpfc_expr acts[2] = {{ptr16, sizeof(ptr16)}, {count, sizeof(count)}};
	struct bpfc_tsv_slot var = {1, 0};
	struct bpfc_mem mem = {3 /* rdx */, 0, 64, 0};
	struct bpfc_spec spec = {.tp = 1, .slot = 0, .mem = &mem, .nmem = 1};
	struct bench b = {.ring = NULL};
	struct bpfc_prog prog[NMODES];
	struct bpfc_counts cnt;
	int counters = -1, tsv = -1, ret = 1, r, m;
	__s64 c = 0;
	long nrec = 0;
	cpu_set_t cpus;

	for (m = 0; m < NMODES; m++) {
		memset(&prog[m], 0, sizeof(prog[m]));
		prog[m].fd = -1;
		b.fd[m] = -1;
	}
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
	counters = bpfc_counters__create(4);
	tsv = bpfc_tsv__create(1);
	if (counters < 0 || tsv < 0) {
		fprintf(stderr, "maps: %s\n", strerror(-(counters < 0 ? counters : tsv)));
		goto cleanup;
	}
	b.fd[M_EMPTY] = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bpfc_empty", "GPL", empty, 2, NULL);
	if (b.fd[M_EMPTY] < 0) {
		fprintf(stderr, "empty prog: %s\n", strerror(-b.fd[M_EMPTY]));
		goto cleanup;
	}
	if (build(&b, &spec, counters, &prog[M_COLLECT], M_COLLECT))
		goto cleanup;
	/* The agent expression modes: no fixed memory range. */
	spec.nmem = 0;
	spec.slot = 1;
	spec.flags = BPFC_SPEC_NO_REGS;
	spec.cond = &cf;
	if (build(&b, &spec, counters, &prog[M_COND_FALSE], M_COND_FALSE))
		goto cleanup;
	spec.slot = 2;
	spec.cond = &ct;
	spec.actions = acts;
	spec.nactions = 2;
	spec.vars = (struct bpfc_tsvs){.fd = tsv, .map = &var, .n = 1};
	if (build(&b, &spec, counters, &prog[M_AX], M_AX))
		goto cleanup;
	spec.slot = 3;
	spec.flags = 0;
	if (build(&b, &spec, counters, &prog[M_AX_REGS], M_AX_REGS))
		goto cleanup;
	printf("%ld calls x %d rounds, pid %d, cpu %d\n", b.calls, b.rounds, (int)getpid(),
	       sched_getcpu());

	if (run(&b, "probe on push %rbp (emulated)", bench_push) ||
	    run(&b, "probe on movsbq (single-stepped out of line)", bench_xol))
		goto cleanup;
	if (prog_ns(b.fd[M_EMPTY]) > 0) {
		printf("program run time (bpf_stats, includes ~40 ns of stats overhead):");
		for (m = M_EMPTY; m < NMODES; m++)
			printf(" %s %.1f ns%s", mode_name[m], prog_ns(b.fd[m]),
			       m + 1 < NMODES ? "," : "\n");
	}
	for (m = M_COLLECT; m < NMODES; m++) {
		bpfc_counters__read(counters, (__u32)(m - M_COLLECT), &cnt);
		printf("%-12s: hits %llu, frames %llu, drops %llu\n", mode_name[m],
		       (unsigned long long)cnt.hits, (unsigned long long)cnt.frames,
		       (unsigned long long)cnt.drops);
	}
	bpfc_tsv__get(tsv, 0, &c);
	printf("records %ld; $c = %lld\n", nrec, (long long)c);
	ret = 0;
cleanup:
	for (m = 0; m < NMODES; m++)
		bpfc_prog__free(&prog[m]);
	if (b.fd[M_EMPTY] >= 0)
		close(b.fd[M_EMPTY]);
	if (counters >= 0)
		close(counters);
	if (tsv >= 0)
		close(tsv);
	bpfc_ring__free(b.ring);
	return ret;
}
