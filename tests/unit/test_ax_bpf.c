/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_ax_bpf.c - compiled agent expressions on real uprobe hits.
 *
 * A victim program, compiled on the fly, calls a noinline function
 * victim(a, b, buf, chain, e, f) whenever the test tells it to (over a
 * pipe), with known arguments, a 4 KiB buffer of known bytes, a two-deep
 * pointer chain ending in a known string, and on demand from 4 threads at
 * once.  Each test builds a tracepoint program with conditions and actions
 * (bpf/collect.c + bpf/ax.c), loads it, attaches it, runs a known number
 * of calls and checks the records, the counters and the variables map
 * exactly.
 *
 * The differential test generates a few hundred random valid expressions
 * (constants, registers, arithmetic, comparisons, ext/zero_ext, stack
 * shuffles, branches, reads of the known buffer and of unmapped memory),
 * evaluates them with the small reference interpreter below (plain C,
 * written from the GDB manual, used nowhere else) against the registers
 * the same record carries, and compares every 64-bit result, or the
 * failure, with what the BPF program traced.  Last, random byte soups the
 * validator accepts (and the fuzzer's corpus, if there is one) must all
 * pass the kernel's verifier.
 *
 * Needs root and BPF.  Without BPF it exits 77 (skip), except under
 * CI=true where a skipped BPF test is a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "tests/unit/bpf_env.h"
#include "tests/unit/bpf_victim.h"
#include "tests/unit/check.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpf/ax.h"
#include "bpf/collect.h"
#include "bpf/probe.h"
#include "bpf/record.h"
#include "bpf/ring.h"

struct tctx {
	int pass, fail;
	char dir[64];
};

#define CHECK TCHECK

static const char victim_src[] =
	"#include <pthread.h>\n"
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"struct inner { char *data; long pad; };\n"
	"struct outer { struct inner *in; long pad; };\n"
	"unsigned char vmem[4096];\n"
	"char vstr[64] = \"agent expressions, compiled to BPF\";\n"
	"struct inner vin = { vstr, 7 };\n"
	"struct outer vout = { &vin, 9 };\n"
	"volatile long vsink;\n"
	"static long per_thread;\n"
	"__attribute__((noinline)) long victim(long a, long b, void *buf, void *chain, long e,\n"
	"				       long f)\n"
	"{\n"
	"	vsink += a + b + ((unsigned char *)buf)[0] + (long)chain + e + f;\n"
	"	return vsink;\n"
	"}\n"
	"static void *worker(void *arg)\n"
	"{\n"
	"	long i;\n"
	"	for (i = 0; i < per_thread; i++)\n"
	"		victim(i, (long)arg, vmem, &vout, 0, 0);\n"
	"	return NULL;\n"
	"}\n"
	"int main(void)\n"
	"{\n"
	"	char line[256];\n"
	"	long i, a, b, e, f, n, t;\n"
	"	for (i = 0; i < 4096; i++)\n"
	"		vmem[i] = (unsigned char)(i * 131 + 7);\n"
	"	printf(\"ready\\n\");\n"
	"	fflush(stdout);\n"
	"	while (fgets(line, sizeof(line), stdin)) {\n"
	"		if (sscanf(line, \"seq %ld\", &n) == 1) {\n"
	"			for (i = 0; i < n; i++)\n"
	"				victim(i, 2 * i - 7, vmem, &vout, 1000 + i, -i);\n"
	"		} else if (sscanf(line, \"call %li %li %li %li\", &a, &b, &e, &f) == 4) {\n"
	"			victim(a, b, vmem, &vout, e, f);\n"
	"		} else if (sscanf(line, \"thr %ld %ld\", &t, &n) == 2) {\n"
	"			pthread_t th[16];\n"
	"			per_thread = n;\n"
	"			for (i = 0; i < t && i < 16; i++)\n"
	"				pthread_create(&th[i], NULL, worker, (void *)i);\n"
	"			for (i = 0; i < t && i < 16; i++)\n"
	"				pthread_join(th[i], NULL);\n"
	"		} else if (!strncmp(line, \"quit\", 4)) {\n"
	"			break;\n"
	"		}\n"
	"		printf(\"done\\n\");\n"
	"		fflush(stdout);\n"
	"	}\n"
	"	return 0;\n"
	"}\n";

#define VSTR	 "agent expressions, compiled to BPF"
#define VMEM_LEN 4096

static unsigned char vmem_byte(size_t i)
{
	return (unsigned char)(i * 131 + 7);
}

/* GDB register numbers of the arguments. */
enum { G_RAX, G_RBX, G_RCX, G_RDX, G_RSI, G_RDI, G_RBP, G_RSP, G_R8, G_R9 };

/* Trace state variable numbers: 1..NVARS map to slots 0..NVARS-1; two builtins. */
#define NVARS	64
#define TS_NUM	0x7001
#define THR_NUM 0x7002

struct env {
	struct bpfc_ring *ring;
	int counters, tsv;
	struct victim_recs recs;
	struct victim v;
	char path[128];
	__u64 fn, vmem, vstr, vout, vin;
	struct bpfc_tsv_slot map[NVARS];
	__s64 mono_to_wall_us;
};

/* ---- plumbing ---- */

static __u64 now_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000u + (__u64)ts.tv_nsec / 1000u;
}

/* ---- expressions from hex ---- */

#define MAX_EXPRS 64

struct exprs {
	unsigned char code[MAX_EXPRS][BPFC_AX_MAX_LEN];
	struct bpfc_expr e[MAX_EXPRS];
	size_t n;
};

static struct bpfc_expr *add_hex(struct exprs *x, const char *hex)
{
	struct bpfc_expr *e = &x->e[x->n];

	e->len = unhex(hex, x->code[x->n], BPFC_AX_MAX_LEN);
	e->code = x->code[x->n++];
	return e;
}

static struct bpfc_expr *add_bytes(struct exprs *x, const unsigned char *code, size_t len)
{
	struct bpfc_expr *e = &x->e[x->n];

	memcpy(x->code[x->n], code, len);
	e->len = len;
	e->code = x->code[x->n++];
	return e;
}

static void spec_init(struct env *env, struct bpfc_spec *s, __u32 slot)
{
	memset(s, 0, sizeof(*s));
	s->tp = slot;
	s->slot = slot;
	s->vars.fd = env->tsv;
	s->vars.map = env->map;
	s->vars.n = NVARS;
	s->vars.timestamp = TS_NUM;
	s->vars.timestamp_offset_us = env->mono_to_wall_us;
	s->vars.thread = THR_NUM;
}

/*
 * Build, load and attach spec; run cmd in the victim; detach; collect the
 * records into env->recs and the counters into *cnt.  0 or -errno.
 */
static int tp_run(struct env *env, const struct bpfc_spec *spec, const char *cmd,
		  struct bpfc_counts *cnt)
{
	struct bpfc_prog prog;
	struct bpfc_probe pr;
	char err[256];
	int r;

	victim_recs__clear(&env->recs);
	bpfc_ring__consume(env->ring);
	victim_recs__clear(&env->recs);
	bpfc_counters__reset(env->counters, spec->slot);
	r = bpfc_prog__build(spec, bpfc_ring__map_fd(env->ring), env->counters, &prog);
	if (r) {
		printf("build: %s: %s\n", strerror(-r), prog.msg);
		goto cleanup;
	}
	r = bpfc_prog__load(&prog);
	if (r) {
		size_t l = prog.log ? strlen(prog.log) : 0;

		printf("load: %s (%zu insns); verifier log tail:\n%s\n", strerror(-r), prog.ninsns,
		       prog.log ? prog.log + (l > 3000 ? l - 3000 : 0) : "");
		goto cleanup;
	}
	r = bpfc_probe__attach(&pr, env->v.pid, env->fn, prog.fd, BPFC_PROBE_PATH_AUTO, err,
			       sizeof(err));
	if (r) {
		printf("attach: %s\n", err);
		goto cleanup;
	}
	r = victim__cmd(&env->v, cmd);
	bpfc_probe__detach(&pr);
	if (r) {
		printf("victim '%s': %s\n", cmd, strerror(-r));
		goto cleanup;
	}
	r = bpfc_ring__consume(env->ring);
	r = r < 0 ? r : 0;
	if (!r && cnt)
		r = bpfc_counters__read(env->counters, spec->slot, cnt);
cleanup:
	bpfc_prog__free(&prog);
	return r;
}

/* ---- reading a record ---- */

#define MAXM 16

struct parsed {
	int nr, nm, nv;
	__u64 regs[18];
	__u64 maddr[MAXM];
	size_t mlen[MAXM];
	const unsigned char *mdata[MAXM];
	__u32 vnum[NVARS + 4];
	__s64 vval[NVARS + 4];
	size_t nskip;
	struct bpfc_rec_stats st;
	__u32 tid;
	int err;
};

static int parse_block(void *ctx, char type, const void *blk, size_t len)
{
	struct parsed *p = ctx;
	const unsigned char *b = blk;
	int i;

	switch (type) {
	case BPFC_BLK_REGS:
		for (i = 0; i <= 16; i++)
			memcpy(&p->regs[i], b + 8 * i, 8);
		p->regs[17] = 0;
		memcpy(&p->regs[17], b + BPFC_REGS_OFF_EFL, 4);
		p->nr++;
		return 0;
	case BPFC_BLK_MEM:
		if (p->nm < MAXM) {
			const void *d;

			if (bpfc_rec__mem(blk, len, &p->maddr[p->nm], &d, &p->mlen[p->nm]))
				return -EPROTO;
			p->mdata[p->nm] = d;
		}
		p->nm++;
		return 0;
	case BPFC_BLK_TSV:
		if (len != 12)
			return -EPROTO;
		if (p->nv < NVARS + 4) {
			memcpy(&p->vnum[p->nv], b, 4);
			memcpy(&p->vval[p->nv], b + 4, 8);
		}
		p->nv++;
		return 0;
	}
	return -EPROTO;
}

static void parse_rec(const struct victim_rec *r, struct parsed *p)
{
	struct bpfc_rec h;

	memset(p, 0, sizeof(*p));
	p->err = bpfc_rec__foreach_block(r->data, r->len, parse_block, p, &p->nskip);
	if (!p->err)
		p->err = bpfc_rec__stats(r->data, r->len, &p->st);
	if (r->len >= sizeof(h)) {
		memcpy(&h, r->data, sizeof(h));
		p->tid = h.tid;
	}
}

static bool vmem_is(const unsigned char *d, size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (d[i] != vmem_byte(off + i))
			return false;
	return true;
}

/* ---- the tests ---- */

/* condition a > 5, as GDB -O2 sends it: only calls with a > 5 produce records. */
static void test_condition(struct tctx *t, struct env *env)
{
	struct exprs *x = calloc(1, sizeof(*x));
	struct bpfc_counts cnt;
	struct bpfc_spec s;
	size_t i, bad = 0;
	int r;

	if (!x)
		return;
	spec_init(env, &s, 1);
	/* reg rdi; ext 32; const8 5; swap; less_signed */
	s.cond = add_hex(x, "260005162022052b1427");
	r = tp_run(env, &s, "seq 20", &cnt);
	for (i = 0; i < env->recs.n; i++) {
		struct parsed p;

		parse_rec(&env->recs.rec[i], &p);
		if (p.err || p.nr != 1 || (__s64)p.regs[G_RDI] <= 5)
			bad++;
	}
	CHECK(t, !r && env->recs.n == 14 && !bad && cnt.hits == 14 && cnt.frames == 14,
	      "condition a > 5 over a = 0..19: run %d, %zu records (want 14), %zu bad, hits %llu "
	      "frames %llu",
	      r, env->recs.n, bad, (unsigned long long)cnt.hits, (unsigned long long)cnt.frames);

	/* A condition whose read fails is false. */
	x->n = 0;
	s.cond = add_hex(x, "2210 17 27"); /* *(char *)16 */
	r = tp_run(env, &s, "seq 5", &cnt);
	CHECK(t, !r && env->recs.n == 0 && cnt.hits == 0,
	      "condition with a failed read: %d, %zu records, hits %llu (want none)", r,
	      env->recs.n, (unsigned long long)cnt.hits);

	x->n = 0;
	s.cond = add_hex(x, "2201 260005 05 27"); /* 1 / a: a = 0 ends it, others are 0 */
	r = tp_run(env, &s, "call 0 0 0 0", &cnt);
	CHECK(t, !r && env->recs.n == 0 && cnt.hits == 0,
	      "condition dividing by zero: %d, %zu records (want 0)", r, env->recs.n);
	r = tp_run(env, &s, "call 1 0 0 0", &cnt);
	CHECK(t, !r && env->recs.n == 1 && cnt.hits == 1,
	      "condition 1 / 1: %d, %zu records (want 1)", r, env->recs.n);

	/* a ? (b == 3) : 0 with branches */
	x->n = 0;
	s.cond = add_hex(x, "260005 20000b 2200 210011 260004 2203 13 27");
	r = tp_run(env, &s, "call 1 3 0 0", &cnt);
	i = env->recs.n;
	if (!r)
		r = tp_run(env, &s, "call 0 3 0 0", &cnt);
	i = i * 10 + env->recs.n;
	if (!r)
		r = tp_run(env, &s, "call 1 4 0 0", &cnt);
	i = i * 10 + env->recs.n;
	CHECK(t, !r && i == 100,
	      "condition a ? b == 3 : 0 with branches: %d, records %03zu "
	      "(want 100)",
	      r, i);
	free(x);
}

/* *ptr@16, a pointer chain, strings, run-time lengths, failures. */
static void test_collect(struct tctx *t, struct env *env)
{
	struct exprs *x = calloc(1, sizeof(*x));
	struct bpfc_counts cnt;
	struct bpfc_spec s;
	struct parsed p;
	char cmd[128];
	int r;

	if (!x)
		return;
	spec_init(env, &s, 2);

	/* collect *ptr@16 (-O2): reg rdx; zero_ext 64; const8 16; trace */
	s.actions = add_hex(x, "2600032a4022100c27");
	s.nactions = 1;
	r = tp_run(env, &s, "seq 3", &cnt);
	parse_rec(&env->recs.rec[0], &p);
	CHECK(t,
	      !r && env->recs.n == 3 && !p.err && p.nr == 1 && p.nm == 1 &&
		      p.maddr[0] == env->vmem && p.mlen[0] == 16 && vmem_is(p.mdata[0], 0, 16),
	      "*ptr@16: run %d, %zu records, err %d, %d M (addr 0x%llx len %zu, want 0x%llx 16)", r,
	      env->recs.n, p.err, p.nm, (unsigned long long)p.maddr[0], p.mlen[0],
	      (unsigned long long)env->vmem);

	/* A pointer chain two deep: *(*(chain))@16, and the -O0 shape with trace_quick. */
	x->n = 0;
	add_hex(x, "2600021a1a22100c27");
	add_hex(x, "2600020d081a0d081a22100c27");
	s.actions = x->e;
	s.nactions = 2;
	r = tp_run(env, &s, "call 1 2 3 4", &cnt);
	if (env->recs.n)
		parse_rec(&env->recs.rec[0], &p);
	CHECK(t,
	      !r && env->recs.n == 1 && !p.err && p.nm == 4 && p.maddr[0] == env->vstr &&
		      p.mlen[0] == 16 && !memcmp(p.mdata[0], VSTR, 16) && p.maddr[1] == env->vout &&
		      p.mlen[1] == 8 && p.maddr[2] == env->vin && p.mlen[2] == 8 &&
		      !memcmp(p.mdata[1], &env->vin, 8) && !memcmp(p.mdata[2], &env->vstr, 8) &&
		      p.maddr[3] == env->vstr && !memcmp(p.mdata[3], VSTR, 16),
	      "pointer chain: run %d, %zu records, err %d, %d M blocks", r, env->recs.n, p.err,
	      p.nm);

	/* tracenz: the whole string with its NUL; a limit of 5; a run-time limit. */
	x->n = 0;
	add_hex(x, "2600021a1a2300c82f27");
	add_hex(x, "2600021a1a22052f27");
	add_hex(x, "2600021a1a2600082f27");
	s.nactions = 3;
	snprintf(cmd, sizeof(cmd), "call 0 0 %d 0", 3);
	r = tp_run(env, &s, cmd, &cnt);
	if (env->recs.n)
		parse_rec(&env->recs.rec[0], &p);
	CHECK(t,
	      !r && env->recs.n == 1 && !p.err && p.nm == 3 && p.maddr[0] == env->vstr &&
		      p.mlen[0] == sizeof(VSTR) && !memcmp(p.mdata[0], VSTR, sizeof(VSTR)) &&
		      p.mlen[1] == 5 && !memcmp(p.mdata[1], VSTR, 5) && p.mlen[2] == 3 &&
		      !memcmp(p.mdata[2], VSTR, 3) && p.st.cut == 0,
	      "tracenz: run %d, %zu records, err %d, %d M, lengths %zu %zu %zu (want %zu 5 3), "
	      "cut %zu",
	      r, env->recs.n, p.err, p.nm, p.mlen[0], p.mlen[1], p.mlen[2], sizeof(VSTR), p.st.cut);
	/* A run-time limit beyond the capacity: the string is shorter, nothing is cut. */
	r = tp_run(env, &s, "call 0 0 100000 0", &cnt);
	if (env->recs.n)
		parse_rec(&env->recs.rec[0], &p);
	CHECK(t, !r && env->recs.n == 1 && p.nm == 3 && p.mlen[2] == sizeof(VSTR) && !p.st.cut,
	      "tracenz, limit 100000: %d, %zu records, len %zu, cut %zu", r, env->recs.n, p.mlen[2],
	      p.st.cut);

	/* Run-time trace lengths: reg rdx; reg r8; trace -- cut at the capacity, visibly. */
	{
		static const __u64 lens[] = {1,
					     17,
					     BPFC_AX_TRACE_MAX,
					     BPFC_AX_TRACE_MAX + 1,
					     4096,
					     0x7fffffffffffffffull,
					     0};
		size_t i;

		x->n = 0;
		s.actions = add_hex(x, "2600032600080c27");
		s.nactions = 1;
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			__u64 want = lens[i] < BPFC_AX_TRACE_MAX ? lens[i] : BPFC_AX_TRACE_MAX;
			bool cut = lens[i] > BPFC_AX_TRACE_MAX;

			snprintf(cmd, sizeof(cmd), "call 0 0 %lld 0", (long long)lens[i]);
			r = tp_run(env, &s, cmd, &cnt);
			if (env->recs.n)
				parse_rec(&env->recs.rec[0], &p);
			CHECK(t,
			      !r && env->recs.n == 1 && !p.err &&
				      (lens[i] ? p.nm == 1 && p.mlen[0] == want &&
							 p.maddr[0] == env->vmem &&
							 vmem_is(p.mdata[0], 0, want) &&
							 p.st.cut == cut &&
							 p.st.cut_bytes ==
								 (cut ? lens[i] - want : 0)
					       : p.nm == 0 && p.nskip == 1),
			      "trace of run-time length %llu: run %d, %zu records, %d M of %zu "
			      "(want %llu), cut %zu (%llu bytes), skipped %zu",
			      (unsigned long long)lens[i], r, env->recs.n, p.nm, p.mlen[0],
			      (unsigned long long)want, p.st.cut,
			      (unsigned long long)p.st.cut_bytes, p.nskip);
		}
	}

	/*
	 * Failures: an action dividing by zero keeps what it collected and
	 * leaves its later blocks skipped; the next action runs; a trace of
	 * unmapped memory skips its block only; a site skipped by if_goto
	 * stays skipped.
	 */
	x->n = 0;
	add_hex(x, "260003 2208 0c 2201 2200 05 29 260003 2204 0c 27");
	add_hex(x, "2210 2208 0c 260003 2202 0c 27");
	add_hex(x, "2201 20000b 260003 2208 0c 27");
	add_hex(x, "2210 1a 260003 2201 0c 27");
	add_hex(x, "260003 2203 0c 27");
	s.actions = x->e;
	s.nactions = 5;
	r = tp_run(env, &s, "call 0 0 0 0", &cnt);
	if (env->recs.n)
		parse_rec(&env->recs.rec[0], &p);
	CHECK(t,
	      !r && env->recs.n == 1 && !p.err && p.nm == 3 && p.nskip == 4 && p.mlen[0] == 8 &&
		      p.mlen[1] == 2 && p.mlen[2] == 3 && vmem_is(p.mdata[2], 0, 3),
	      "failures: run %d, %zu records, %d M (want 3: 8, 2, 3 bytes), %zu skipped (want "
	      "4)",
	      r, env->recs.n, p.nm, p.nskip);
	free(x);
}

/* tracev, the builtins, and "teval $c = $c + 1" from 4 threads at once. */
static void test_vars(struct tctx *t, struct env *env)
{
	struct exprs *x = calloc(1, sizeof(*x));
	struct bpfc_counts cnt;
	struct bpfc_spec s;
	struct parsed p;
	__s64 v1 = 0, v2 = 0, v3 = 0;
	size_t i, bad = 0;
	__u64 t0, t1;
	int r, k;

	if (!x)
		return;
	spec_init(env, &s, 3);
	s.flags = BPFC_SPEC_NO_REGS;
	for (k = 0; k < NVARS; k++)
		bpfc_tsv__set(env->tsv, (__u32)k, 0);
	bpfc_tsv__set(env->tsv, 0, 100);
	add_hex(x, "2c00012e00012927");		/* collect $c (var 1) */
	add_hex(x, "2c000122010216402d000127"); /* teval $c = $c + 1 */
	add_hex(x, "2c000222010316402d000227"); /* teval $d = $d - 1 */
	add_hex(x, "2201 2c0003 02 2d0003 27"); /* teval $e = 1 + $e */
	s.actions = x->e;
	s.nactions = 4;
	r = tp_run(env, &s, "thr 4 5000", &cnt);
	bpfc_tsv__get(env->tsv, 0, &v1);
	bpfc_tsv__get(env->tsv, 1, &v2);
	bpfc_tsv__get(env->tsv, 2, &v3);
	for (i = 0; i < env->recs.n; i++) {
		parse_rec(&env->recs.rec[i], &p);
		if (p.err || p.nv != 1 || p.vnum[0] != 1 || p.vval[0] < 100 || p.vval[0] >= 20100)
			bad++;
	}
	CHECK(t,
	      !r && v1 == 20100 && v2 == -20000 && v3 == 20000 && env->recs.n == 20000 && !bad &&
		      cnt.hits == 20000 && cnt.drops == 0,
	      "4 threads x 5000 calls: run %d, $c = %lld (want 20100), $d = %lld (want -20000), "
	      "$e = %lld (want 20000), %zu records (want 20000), %zu bad, hits %llu drops %llu",
	      r, (long long)v1, (long long)v2, (long long)v3, env->recs.n, bad,
	      (unsigned long long)cnt.hits, (unsigned long long)cnt.drops);

	/* setv / getv / tracev of plain values; trace_timestamp and trace_thread. */
	x->n = 0;
	add_hex(x, "260005 2d0005 2e0005 27");	       /* $5 = a; tracev $5 */
	add_hex(x, "2c0005 2201 04 2d0006 2e0006 27"); /* $6 = $5 * 1 (not the atomic form) */
	add_hex(x, "2e7001 2e7002 2c7001 2d0007 27");  /* tracev ts, thread; $7 = ts */
	s.actions = x->e;
	s.nactions = 3;
	t0 = now_us(CLOCK_REALTIME);
	r = tp_run(env, &s, "call 4242 0 0 0", &cnt);
	t1 = now_us(CLOCK_REALTIME);
	bpfc_tsv__get(env->tsv, 6, &v1);
	if (env->recs.n)
		parse_rec(&env->recs.rec[0], &p);
	CHECK(t,
	      !r && env->recs.n == 1 && p.nv == 4 && p.vnum[0] == 5 && p.vval[0] == 4242 &&
		      p.vnum[1] == 6 && p.vval[1] == 4242 && p.vnum[2] == TS_NUM &&
		      (__u64)p.vval[2] >= t0 - 2000 && (__u64)p.vval[2] <= t1 + 2000 &&
		      p.vnum[3] == THR_NUM && (__u32)p.vval[3] == p.tid &&
		      p.tid == (__u32)env->v.pid && (__u64)v1 >= t0 - 2000 &&
		      (__u64)v1 <= t1 + 2000,
	      "variables: run %d, %zu records, %d V: %u=%lld %u=%lld %u=%lld (now %llu) %u=%lld "
	      "(tid %u)",
	      r, env->recs.n, p.nv, p.vnum[0], (long long)p.vval[0], p.vnum[1],
	      (long long)p.vval[1], p.vnum[2], (long long)p.vval[2], (unsigned long long)t0,
	      p.vnum[3], (long long)p.vval[3], p.tid);
	free(x);
}

/* ---- the differential test ---- */

struct gen {
	unsigned char *code;
	size_t n, cap;
	unsigned int sd; /* stack depth after the code so far */
	__u64 rng;
	int budget;
	bool bad;
	bool args_only; /* reg: only registers that are the same on every call */
};

static __u64 rnd(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void put(struct gen *g, unsigned int b)
{
	if (g->n < g->cap)
		g->code[g->n++] = (unsigned char)b;
	else
		g->bad = true;
}

static void put16(struct gen *g, unsigned int v)
{
	put(g, v >> 8);
	put(g, v & 0xff);
}

static void gen_const(struct gen *g, __u64 v)
{
	int w = (int)(rnd(&g->rng) % 4), i;
	static const __u64 lim[] = {0xff, 0xffff, 0xffffffffull, ~0ull};

	/* the narrowest encoding that holds v, or a wider one at random */
	while (w < 3 && v > lim[w])
		w++;
	put(g, BPFC_AXOP_CONST8 + w);
	for (i = (1 << w) - 1; i >= 0; i--)
		put(g, (unsigned int)(v >> (8 * i)) & 0xff);
	g->sd++;
}

static __u64 interesting(__u64 *s)
{
	static const __u64 vals[] = {0,
				     1,
				     2,
				     3,
				     5,
				     7,
				     8,
				     31,
				     32,
				     63,
				     64,
				     65,
				     127,
				     128,
				     255,
				     256,
				     0x7fffffff,
				     0x80000000,
				     ~0ull,
				     ~0ull - 1,
				     0x8000000000000000ull,
				     0x7fffffffffffffffull};

	switch (rnd(s) % 3) {
	case 0:
		return vals[rnd(s) % (sizeof(vals) / sizeof(vals[0]))];
	case 1:
		return rnd(s) % 300;
	}
	return rnd(s);
}

static const unsigned char binops[] = {
	BPFC_AXOP_ADD,		 BPFC_AXOP_SUB,		 BPFC_AXOP_MUL,
	BPFC_AXOP_DIV_SIGNED,	 BPFC_AXOP_DIV_UNSIGNED, BPFC_AXOP_REM_SIGNED,
	BPFC_AXOP_REM_UNSIGNED,	 BPFC_AXOP_LSH,		 BPFC_AXOP_RSH_SIGNED,
	BPFC_AXOP_RSH_UNSIGNED,	 BPFC_AXOP_BIT_AND,	 BPFC_AXOP_BIT_OR,
	BPFC_AXOP_BIT_XOR,	 BPFC_AXOP_EQUAL,	 BPFC_AXOP_LESS_SIGNED,
	BPFC_AXOP_LESS_UNSIGNED,
};

static void binop(struct gen *g)
{
	put(g, binops[rnd(&g->rng) % sizeof(binops)]);
	g->sd--;
}

/* Code pushing one value. */
static void gen_val(struct gen *g, int lvl)
{
	int k = (lvl >= 5 || g->budget <= 0 || g->sd > 24) ? (int)(rnd(&g->rng) % 3)
							   : (int)(rnd(&g->rng) % 15);
	size_t at, at2;

	g->budget--;
	switch (k) {
	case 0:
	case 2:
		gen_const(g, interesting(&g->rng));
		break;
	case 1:
		put(g, BPFC_AXOP_REG);
		if (g->args_only) {
			static const unsigned char args[] = {G_RDI, G_RSI, G_RDX,
							     G_RCX, G_R8,  G_R9};

			put16(g, args[rnd(&g->rng) % sizeof(args)]);
		} else {
			put16(g, (unsigned int)(rnd(&g->rng) % BPFC_AX_NREGS));
		}
		g->sd++;
		break;
	case 3: /* unary */
		gen_val(g, lvl + 1);
		switch (rnd(&g->rng) % 4) {
		case 0:
			put(g, BPFC_AXOP_LOG_NOT);
			break;
		case 1:
			put(g, BPFC_AXOP_BIT_NOT);
			break;
		case 2:
			put(g, BPFC_AXOP_EXT);
			put(g, 1 + (unsigned int)(rnd(&g->rng) % 70));
			break;
		default:
			put(g, BPFC_AXOP_ZERO_EXT);
			put(g, (unsigned int)(rnd(&g->rng) % 70));
			break;
		}
		break;
	case 4:
	case 5:
	case 6:
		gen_val(g, lvl + 1);
		gen_val(g, lvl + 1);
		binop(g);
		break;
	case 7: /* division by something usually non-zero */
		gen_val(g, lvl + 1);
		if (rnd(&g->rng) % 2)
			gen_const(g, 1 + rnd(&g->rng) % 9);
		else
			gen_val(g, lvl + 1);
		put(g, BPFC_AXOP_DIV_SIGNED + (unsigned int)(rnd(&g->rng) % 4));
		g->sd--;
		break;
	case 8: /* a read inside the known buffer: rdx + (v & 0xff8) */
		gen_val(g, lvl + 1);
		gen_const(g, 0xff8);
		put(g, BPFC_AXOP_BIT_AND);
		put(g, BPFC_AXOP_REG);
		put16(g, G_RDX);
		put(g, BPFC_AXOP_ADD);
		put(g, BPFC_AXOP_REF8 + (unsigned int)(rnd(&g->rng) % 4));
		g->sd--;
		break;
	case 9: /* a read of the unmapped first page: always fails */
		if (rnd(&g->rng) % 4) {
			gen_const(g, interesting(&g->rng));
			break;
		}
		gen_val(g, lvl + 1);
		gen_const(g, 0xfff);
		put(g, BPFC_AXOP_BIT_AND);
		put(g, BPFC_AXOP_REF8 + (unsigned int)(rnd(&g->rng) % 4));
		g->sd--;
		break;
	case 10: /* dup */
		gen_val(g, lvl + 1);
		put(g, BPFC_AXOP_DUP);
		g->sd++;
		binop(g);
		break;
	case 11: /* swap */
		gen_val(g, lvl + 1);
		gen_val(g, lvl + 1);
		put(g, BPFC_AXOP_SWAP);
		binop(g);
		break;
	case 12: /* pick or rot */
		gen_val(g, lvl + 1);
		gen_val(g, lvl + 1);
		if (rnd(&g->rng) % 2) {
			put(g, BPFC_AXOP_PICK);
			put(g, 1);
			g->sd++;
		} else {
			gen_val(g, lvl + 1);
			put(g, BPFC_AXOP_ROT);
		}
		binop(g);
		binop(g);
		break;
	case 13: /* c ? x : y */
		gen_val(g, lvl + 1);
		put(g, BPFC_AXOP_IF_GOTO);
		at = g->n;
		put16(g, 0);
		g->sd--;
		gen_val(g, lvl + 1);
		put(g, BPFC_AXOP_GOTO);
		at2 = g->n;
		put16(g, 0);
		g->sd--;
		if (at + 1 < g->cap) {
			g->code[at] = (unsigned char)(g->n >> 8);
			g->code[at + 1] = (unsigned char)g->n;
		}
		gen_val(g, lvl + 1);
		if (at2 + 1 < g->cap) {
			g->code[at2] = (unsigned char)(g->n >> 8);
			g->code[at2 + 1] = (unsigned char)g->n;
		}
		break;
	default: /* pop a spare value */
		gen_val(g, lvl + 1);
		gen_val(g, lvl + 1);
		put(g, BPFC_AXOP_POP);
		g->sd--;
		break;
	}
}

/* The reference: what gdbserver's interpreter does, with bpfstub's documented choices. */
struct refm {
	__u64 regs[18];
	__u64 vmem; /* address of the known buffer */
	__s64 vars[NVARS + 1];
	bool traced[NVARS + 1];
	__s64 tvals[NVARS + 1];
};

static int ref_read(const struct refm *m, __u64 addr, int size, __u64 *v)
{
	int i;

	if (addr < m->vmem || addr > m->vmem + VMEM_LEN - (__u64)size)
		return -EFAULT;
	*v = 0;
	for (i = 0; i < size; i++)
		*v |= (__u64)vmem_byte(addr - m->vmem + (__u64)i) << (8 * i);
	return 0;
}

/* 0 when it reaches end, -1 when it ends early. */
static int ref_eval(const unsigned char *c, size_t len, struct refm *m, __u64 *top)
{
	__u64 st[64], a, b, x;
	size_t pc = 0;
	int sp = 0, n, i;

	while (pc < len) {
		unsigned int op = c[pc++];

		switch (op) {
		case BPFC_AXOP_ADD ... BPFC_AXOP_RSH_UNSIGNED:
		case BPFC_AXOP_BIT_AND ... BPFC_AXOP_BIT_XOR:
		case BPFC_AXOP_EQUAL ... BPFC_AXOP_LESS_UNSIGNED:
			b = st[--sp];
			a = st[--sp];
			switch (op) {
			case BPFC_AXOP_ADD:
				x = a + b;
				break;
			case BPFC_AXOP_SUB:
				x = a - b;
				break;
			case BPFC_AXOP_MUL:
				x = a * b;
				break;
			case BPFC_AXOP_DIV_SIGNED:
				if (!b)
					return -1;
				if ((__s64)a == INT64_MIN && (__s64)b == -1)
					x = a;
				else
					x = (__u64)((__s64)a / (__s64)b);
				break;
			case BPFC_AXOP_DIV_UNSIGNED:
				if (!b)
					return -1;
				x = a / b;
				break;
			case BPFC_AXOP_REM_SIGNED:
				if (!b)
					return -1;
				if ((__s64)b == -1)
					x = 0;
				else
					x = (__u64)((__s64)a % (__s64)b);
				break;
			case BPFC_AXOP_REM_UNSIGNED:
				if (!b)
					return -1;
				x = a % b;
				break;
			case BPFC_AXOP_LSH:
				x = a << (b % 64);
				break;
			case BPFC_AXOP_RSH_SIGNED:
				x = (__u64)((__s64)a >> (b % 64));
				break;
			case BPFC_AXOP_RSH_UNSIGNED:
				x = a >> (b % 64);
				break;
			case BPFC_AXOP_BIT_AND:
				x = a & b;
				break;
			case BPFC_AXOP_BIT_OR:
				x = a | b;
				break;
			case BPFC_AXOP_BIT_XOR:
				x = a ^ b;
				break;
			case BPFC_AXOP_EQUAL:
				x = a == b;
				break;
			case BPFC_AXOP_LESS_SIGNED:
				x = (__s64)a < (__s64)b;
				break;
			default:
				x = a < b;
				break;
			}
			st[sp++] = x;
			break;
		case BPFC_AXOP_LOG_NOT:
			st[sp - 1] = !st[sp - 1];
			break;
		case BPFC_AXOP_BIT_NOT:
			st[sp - 1] = ~st[sp - 1];
			break;
		case BPFC_AXOP_EXT:
			n = c[pc++];
			if (n < 64) {
				__u64 sign = 1ull << (n - 1);

				x = st[sp - 1] & ((1ull << n) - 1);
				st[sp - 1] = (x ^ sign) - sign;
			}
			break;
		case BPFC_AXOP_ZERO_EXT:
			n = c[pc++];
			if (n < 64)
				st[sp - 1] &= (1ull << n) - 1;
			break;
		case BPFC_AXOP_REF8 ... BPFC_AXOP_REF64:
			if (ref_read(m, st[sp - 1], 1 << (op - BPFC_AXOP_REF8), &st[sp - 1]))
				return -1;
			break;
		case BPFC_AXOP_IF_GOTO:
			x = st[--sp];
			if (x)
				pc = (size_t)c[pc] << 8 | c[pc + 1];
			else
				pc += 2;
			break;
		case BPFC_AXOP_GOTO:
			pc = (size_t)c[pc] << 8 | c[pc + 1];
			break;
		case BPFC_AXOP_CONST8 ... BPFC_AXOP_CONST64:
			n = 1 << (op - BPFC_AXOP_CONST8);
			for (x = 0, i = 0; i < n; i++)
				x = x << 8 | c[pc++];
			st[sp++] = x;
			break;
		case BPFC_AXOP_REG:
			st[sp++] = m->regs[c[pc] << 8 | c[pc + 1]];
			pc += 2;
			break;
		case BPFC_AXOP_END:
			*top = sp ? st[sp - 1] : 0;
			return 0;
		case BPFC_AXOP_DUP:
			st[sp] = st[sp - 1];
			sp++;
			break;
		case BPFC_AXOP_POP:
			sp--;
			break;
		case BPFC_AXOP_SWAP:
			x = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = x;
			break;
		case BPFC_AXOP_PICK:
			st[sp] = st[sp - 1 - c[pc++]];
			sp++;
			break;
		case BPFC_AXOP_ROT:
			x = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = st[sp - 3];
			st[sp - 3] = x;
			break;
		case BPFC_AXOP_SETV:
			m->vars[c[pc] << 8 | c[pc + 1]] = (__s64)st[sp - 1];
			pc += 2;
			break;
		case BPFC_AXOP_TRACEV:
			n = c[pc] << 8 | c[pc + 1];
			m->traced[n] = true;
			m->tvals[n] = m->vars[n];
			pc += 2;
			break;
		default:
			return -2; /* the generator does not make these */
		}
	}
	return -2;
}

/* Compare expression e (which traces variable var) with its V block in p. */
static bool diff_one(struct tctx *t, const struct env *env, const struct bpfc_expr *e, int var,
		     const struct parsed *p, const char *call, bool *ended)
{
	const unsigned char *code = e->code;
	struct refm m;
	__u64 top;
	int got = -1, want, k;
	size_t b;
	bool ok;

	memset(&m, 0, sizeof(m));
	memcpy(m.regs, p->regs, sizeof(m.regs));
	m.vmem = env->vmem;
	want = ref_eval(code, e->len, &m, &top);
	for (k = 0; k < p->nv && k < NVARS + 4; k++)
		if (p->vnum[k] == (__u32)var)
			got = k;
	if (want == 0)
		ok = got >= 0 && m.traced[var] && p->vval[got] == m.tvals[var];
	else
		ok = want == -1 && got < 0;
	*ended = want == -1;
	CHECK(t, ok, "differential (%s): the reference %s 0x%llx, BPF %s 0x%llx", call,
	      want ? "ends" : "gives", (unsigned long long)m.tvals[var], got < 0 ? "ends" : "gives",
	      got < 0 ? 0ull : (unsigned long long)p->vval[got]);
	if (!ok) {
		printf("  code: ");
		for (b = 0; b < e->len; b++)
			printf("%02x", code[b]);
		printf("\n");
	}
	return ok;
}

#define DIFF_PER_PROG 25
#define DIFF_PROGS    12
#define DIFF_CONDS    40

static size_t gen_expr(__u64 *rng, unsigned char *code, size_t cap, int var)
{
	struct gen g = {.code = code,
			.cap = cap - 8,
			.rng = *rng,
			.budget = 3 + (int)(*rng % 40),
			.args_only = !var};

	gen_val(&g, 0);
	*rng = g.rng;
	if (g.bad)
		return 0;
	if (var) {
		put(&g, BPFC_AXOP_SETV);
		put16(&g, (unsigned int)var);
		put(&g, BPFC_AXOP_TRACEV);
		put16(&g, (unsigned int)var);
	}
	g.cap += 8;
	put(&g, BPFC_AXOP_END);
	return g.n;
}

static void test_differential(struct tctx *t, struct env *env)
{
	static const char *const calls[] = {"call 5 -3 77 0x123456789",
					    "call -1 64 0 -9223372036854775807"};
	struct exprs *x = calloc(1, sizeof(*x));
	unsigned char code[BPFC_AX_MAX_LEN];
	size_t agree = 0, disagree = 0, ends = 0, conds = 0, cond_bad = 0, i, j, c, rec;
	struct bpfc_counts cnt;
	__u64 rng = 0x9e3779b97f4a7c15ull;
	struct bpfc_spec s;
	struct parsed *p = calloc(1, sizeof(*p));
	char msg[256];
	int r = 0;

	if (!x || !p)
		goto cleanup;
	spec_init(env, &s, 4);
	for (i = 0; i < DIFF_PROGS && !r; i++) {
		x->n = 0;
		for (j = 0; j < DIFF_PER_PROG; j++) {
			size_t n;

			do {
				n = gen_expr(&rng, code, sizeof(code), (int)j + 1);
			} while (!n || bpfc_ax__check(code, n, 0, msg, sizeof(msg)));
			add_bytes(x, code, n);
		}
		s.actions = x->e;
		s.nactions = x->n;
		for (c = 0; c < sizeof(calls) / sizeof(calls[0]) && !r; c++) {
			r = tp_run(env, &s, calls[c], &cnt);
			if (r || env->recs.n != 1) {
				CHECK(t, 0, "differential program %zu, %s: run %d, %zu records", i,
				      calls[c], r, env->recs.n);
				r = r ? r : -EIO;
				break;
			}
			parse_rec(&env->recs.rec[0], p);
			for (j = 0; j < x->n; j++) {
				bool ended;

				if (diff_one(t, env, &x->e[j], (int)j + 1, p, calls[c], &ended)) {
					agree++;
					ends += ended;
				} else {
					disagree++;
				}
			}
		}
	}
	/* The same kind of expressions as conditions: a record iff the value is non-zero. */
	for (i = 0; i < DIFF_CONDS && !r; i++) {
		struct refm m;
		__u64 top = 0;
		size_t n;
		int want;

		do {
			n = gen_expr(&rng, code, sizeof(code), 0);
		} while (!n || bpfc_ax__check(code, n, BPFC_AX_COND, msg, sizeof(msg)));
		x->n = 0;
		s.cond = add_bytes(x, code, n);
		s.nactions = 0;
		s.flags = 0;
		r = tp_run(env, &s, calls[i % 2], &cnt);
		if (r)
			break;
		rec = env->recs.n;
		if (rec) {
			parse_rec(&env->recs.rec[0], p);
		} else {
			/* no record: the registers come from a run without the condition */
			s.cond = NULL;
			r = tp_run(env, &s, calls[i % 2], &cnt);
			if (r || env->recs.n != 1)
				break;
			parse_rec(&env->recs.rec[0], p);
		}
		memset(&m, 0, sizeof(m));
		memcpy(m.regs, p->regs, sizeof(m.regs));
		m.vmem = env->vmem;
		want = ref_eval(code, n, &m, &top);
		conds++;
		CHECK(t, (want == 0 && top) == (rec == 1) && rec <= 1,
		      "differential condition: the reference %s 0x%llx, %zu records",
		      want ? "ends" : "gives", (unsigned long long)top, rec);
		if ((want == 0 && top) != (rec == 1) || rec > 1)
			cond_bad++;
	}
	printf("ax-bpf: info: differential: %zu results agree (%zu of them end early), %zu "
	       "disagree; %zu conditions, %zu disagree\n",
	       agree, ends, disagree, conds, cond_bad);
	CHECK(t,
	      !r && !disagree && agree == DIFF_PROGS * DIFF_PER_PROG * 2 && !cond_bad &&
		      conds == DIFF_CONDS,
	      "differential: run %d, %zu agree, %zu disagree, %zu/%zu conditions disagree", r,
	      agree, disagree, cond_bad, conds);
cleanup:
	free(x);
	free(p);
}

/* ---- every accepted program passes the verifier ---- */

static size_t gen_soup(__u64 *rng, unsigned char *c, size_t cap)
{
	static const unsigned char ops[] = {
		0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
		0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19,
		0x1a, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a,
		0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x32, 0x33, 0x22, 0x22, 0x26, 0x28,
	};
	static const unsigned int vars[] = {1, 2, 3, TS_NUM, THR_NUM};
	size_t n = 0, want = 4 + rnd(rng) % 60;
	int depth = 0;

	while (n + 12 < cap && n < want) {
		unsigned int op = ops[rnd(rng) % sizeof(ops)];
		__u64 v = rnd(rng);

		/* keep the stack mostly fed, so that some soups get accepted */
		if (depth < 2 && rnd(rng) % 2)
			op = rnd(rng) % 2 ? 0x22 : 0x26;
		c[n++] = (unsigned char)op;
		switch (op) {
		case 0x22:
		case 0x16:
		case 0x2a:
		case 0x0d:
			c[n++] = op == 0x16 ? (unsigned char)(1 + v % 64) : (unsigned char)(v % 80);
			break;
		case 0x32:
			c[n++] = (unsigned char)(v % (depth > 0 ? (unsigned int)depth : 1));
			break;
		case 0x23:
		case 0x30:
			c[n++] = (unsigned char)(v >> 8 & 7);
			c[n++] = (unsigned char)v;
			break;
		case 0x26:
			c[n++] = 0;
			c[n++] = (unsigned char)(v % 18);
			break;
		case 0x2c:
		case 0x2d:
		case 0x2e:
			c[n++] = (unsigned char)(vars[v % 5] >> 8);
			c[n++] = (unsigned char)vars[v % 5];
			break;
		case 0x20:
		case 0x21: {
			size_t to = n + 2 + v % 24;

			c[n++] = (unsigned char)(to >> 8);
			c[n++] = (unsigned char)to;
			break;
		}
		case 0x24:
			memcpy(c + n, &v, 4);
			n += 4;
			break;
		case 0x25:
			memcpy(c + n, &v, 8);
			n += 8;
			break;
		}
		switch (op) {
		case 0x22:
		case 0x23:
		case 0x24:
		case 0x25:
		case 0x26:
		case 0x2c:
		case 0x28:
		case 0x32:
			depth++;
			break;
		case 0x0c:
		case 0x2f:
			depth -= 2;
			break;
		case 0x0e:
		case 0x12:
		case 0x16:
		case 0x17:
		case 0x18:
		case 0x19:
		case 0x1a:
		case 0x2a:
		case 0x2b:
		case 0x2d:
		case 0x2e:
		case 0x0d:
		case 0x30:
		case 0x33:
		case 0x21:
		case 0x27:
			break;
		default:
			depth--;
		}
		if (depth < 0)
			depth = 0;
	}
	while (n + 1 < cap && n < want + 24)
		c[n++] = BPFC_AXOP_END;
	return n;
}

static int load_one(struct env *env, const unsigned char *code, size_t n, bool cond, char *msg,
		    size_t mlen)
{
	struct bpfc_expr e = {code, n};
	struct bpfc_prog prog;
	struct bpfc_spec s;
	int r;

	spec_init(env, &s, 5);
	if (cond) {
		s.cond = &e;
	} else {
		s.actions = &e;
		s.nactions = 1;
	}
	r = bpfc_prog__build(&s, bpfc_ring__map_fd(env->ring), env->counters, &prog);
	if (r) {
		snprintf(msg, mlen, "build: %s", prog.msg);
		/*
		 * Refusals of the compiler proper are fine: variables it cannot map,
		 * and a program whose blocks (each within the validator's bounds)
		 * add up past one ring buffer record, which only the whole
		 * tracepoint's spec can tell (-E2BIG, said in one line).
		 */
		r = strstr(prog.msg, "assigns the builtin") || strstr(prog.msg, "is not defined") ||
				    (r == -E2BIG &&
				     strstr(prog.msg, "the most one BPF ring buffer record holds"))
			    ? 1
			    : r;
		goto cleanup;
	}
	r = bpfc_prog__load(&prog);
	if (r) {
		size_t l = prog.log ? strlen(prog.log) : 0;

		snprintf(msg, mlen, "load: %s (%zu insns): ...%s", strerror(-r), prog.ninsns,
			 prog.log ? prog.log + (l > 400 ? l - 400 : 0) : "");
	}
cleanup:
	bpfc_prog__free(&prog);
	return r;
}

/*
 * Worst cases for the verifier at the longest accepted length: hundreds of
 * branches, lengths computed through hundreds of comparisons or branches
 * (the verifier must bound a helper's size, and would otherwise explore
 * every combination), hundreds of reads and collection sites.
 */
static size_t gen_stress(int kind, unsigned char *c, size_t cap)
{
	size_t n = 0, a, b;
	int i;

	if (kind == 1 || kind == 2) {
		c[n++] = BPFC_AXOP_CONST8;
		c[n++] = 0;
	}
	for (i = 0; n + 24 < cap; i++) {
		switch (kind) {
		case 0: /* reg rdi; const8 i; less_signed; if_goto +5; const8 1; pop */
			memcpy(c + n, "\x26\x00\x05\x22\x00\x14\x20\x00\x00\x22\x01\x29", 12);
			c[n + 4] = (unsigned char)i;
			c[n + 7] = (unsigned char)((n + 12) >> 8);
			c[n + 8] = (unsigned char)(n + 12);
			n += 12;
			break;
		case 1: /* reg rdi; const8 i; less_signed; add */
			memcpy(c + n, "\x26\x00\x05\x22\x00\x14\x02", 7);
			c[n + 4] = (unsigned char)i;
			n += 7;
			break;
		case 2: /* reg rdi; const8 i; less_signed; if_goto A; const8 1; goto B; A: const8 2;
			   B: add */
			memcpy(c + n,
			       "\x26\x00\x05\x22\x00\x14\x20\x00\x00\x22\x01\x21\x00\x00"
			       "\x22\x02\x02",
			       17);
			c[n + 4] = (unsigned char)i;
			a = n + 14;
			b = n + 16;
			c[n + 7] = (unsigned char)(a >> 8);
			c[n + 8] = (unsigned char)a;
			c[n + 12] = (unsigned char)(b >> 8);
			c[n + 13] = (unsigned char)b;
			n += 17;
			break;
		case 3: /* reg rdx; ref8; pop */
			memcpy(c + n, "\x26\x00\x03\x17\x29", 5);
			n += 5;
			break;
		case 4: /* reg rdx; trace_quick 1; pop */
			memcpy(c + n, "\x26\x00\x03\x0d\x01\x29", 6);
			n += 6;
			break;
		case 5: /* reg rdx; const8 1; tracenz */
			memcpy(c + n, "\x26\x00\x03\x22\x01\x2f", 6);
			n += 6;
			break;
		default: /* teval $1 = $1 + 1; pop */
			memcpy(c + n, "\x2c\x00\x01\x22\x01\x02\x16\x40\x2d\x00\x01\x29", 12);
			n += 12;
			break;
		}
	}
	if (kind == 1 || kind == 2) { /* reg rdx; swap; trace */
		memcpy(c + n, "\x26\x00\x03\x2b\x0c", 5);
		n += 5;
	}
	c[n++] = BPFC_AXOP_END;
	return n;
}

static void test_verifier(struct tctx *t, struct env *env)
{
	unsigned char code[BPFC_AX_MAX_LEN + 1];
	size_t tried = 0, accepted = 0, loaded = 0, refused = 0, corpus = 0, b;
	__u64 rng = 0x243f6a8885a308d3ull;
	char msg[1024], path[600];
	int failed = 0, r;
	DIR *d;

	for (b = 0; b < 7; b++) {
		size_t n = gen_stress((int)b, code, BPFC_AX_MAX_LEN);

		r = bpfc_ax__check(code, n, 0, msg, sizeof(msg));
		if (!r)
			r = load_one(env, code, n, false, msg, sizeof(msg));
		CHECK(t, !r, "verifier worst case %zu (%zu bytes): %d %s", b, n, r, msg);
	}
	while (accepted < 300 && tried < 200000) {
		size_t n = gen_soup(&rng, code, sizeof(code));
		bool cond = rnd(&rng) % 4 == 0;

		tried++;
		if (bpfc_ax__check(code, n, cond ? BPFC_AX_COND : 0, msg, sizeof(msg)))
			continue;
		accepted++;
		r = load_one(env, code, n, cond, msg, sizeof(msg));
		if (r == 1) {
			refused++;
		} else if (r) {
			if (++failed <= 3) {
				printf("verifier refused an accepted %s (%s): ",
				       cond ? "condition" : "action", msg);
				for (b = 0; b < n; b++)
					printf("%02x", code[b]);
				printf("\n");
			}
		} else {
			loaded++;
			t->pass++;
		}
	}
	/* The fuzzer's corpus (byte 0: flags, as in tests/fuzz/fuzz_ax.c), if any. */
	d = opendir("build/fuzz/corpus-fuzz_ax");
	while (d && corpus < 300) {
		struct dirent *de = readdir(d);
		size_t n;
		FILE *f;

		if (!de)
			break;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "build/fuzz/corpus-fuzz_ax/%s", de->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(code, 1, sizeof(code), f);
		fclose(f);
		if (n < 2 || n - 1 > BPFC_AX_MAX_LEN ||
		    bpfc_ax__check(code + 1, n - 1, code[0] & BPFC_AX_COND, msg, sizeof(msg)))
			continue;
		corpus++;
		r = load_one(env, code + 1, n - 1, code[0] & BPFC_AX_COND, msg, sizeof(msg));
		if (r == 1) {
			refused++;
		} else if (r) {
			if (++failed <= 6) {
				printf("verifier refused corpus %s (%s)\n", de->d_name, msg);
			}
		} else {
			loaded++;
			t->pass++;
		}
	}
	if (d)
		closedir(d);
	printf("ax-bpf: info: random programs: %zu tried, %zu accepted, %zu from the fuzz corpus; "
	       "%zu loaded, %zu refused by the compiler, %d refused by the verifier\n",
	       tried, accepted, corpus, loaded, refused, failed);
	CHECK(t, accepted == 300 && !failed && loaded + refused == accepted + corpus,
	      "verifier: %zu accepted, %zu loaded, %d refused by the verifier", accepted, loaded,
	      failed);
}

/* The validator's message for a bad expression reaches the build's message. */
static void test_build_msgs(struct tctx *t, struct env *env)
{
	struct bpfc_expr e = {"\x26\x00\x12\x27", 4}, big = {"\x26\x00\x05\x26\x00\x04\x0c\x27", 8};
	struct bpfc_expr many[64];
	struct bpfc_prog prog;
	struct bpfc_spec s;
	int r, i;

	spec_init(env, &s, 6);
	s.cond = &e;
	r = bpfc_prog__build(&s, bpfc_ring__map_fd(env->ring), env->counters, &prog);
	CHECK(t, r == -EINVAL && strstr(prog.msg, "reg 18 at byte 0"), "bad condition: %d '%s'", r,
	      prog.msg);
	bpfc_prog__free(&prog);
	/* 64 dynamic traces of 1 KiB do not fit one record. */
	for (i = 0; i < 64; i++)
		many[i] = big;
	s.cond = NULL;
	s.actions = many;
	s.nactions = 64;
	r = bpfc_prog__build(&s, bpfc_ring__map_fd(env->ring), env->counters, &prog);
	CHECK(t, r == -E2BIG && strstr(prog.msg, "collects more than 65536 bytes"),
	      "64 KiB of actions: %d '%s'", r, prog.msg);
	bpfc_prog__free(&prog);
	/* A variable mapped beyond the map. */
	{
		struct bpfc_tsv_slot far = {1, 1000};

		s.nactions = 0;
		s.vars.map = &far;
		s.vars.n = 1;
		r = bpfc_prog__build(&s, bpfc_ring__map_fd(env->ring), env->counters, &prog);
		CHECK(t, r == -EINVAL && strstr(prog.msg, "slot 1000 is beyond"),
		      "variable slot out of range: %d '%s'", r, prog.msg);
		bpfc_prog__free(&prog);
	}
}

int main(void)
{
	struct tctx t = {0};
	struct env env;
	char cmd[128];
	int r, k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&env, 0, sizeof(env));
	env.counters = env.tsv = -1;
	env.v = VICTIM_INIT;
	signal(SIGPIPE, SIG_IGN);

	r = bpf_available("ax-bpf");
	if (r) {
		const char *ci = getenv("CI");

		printf("ax-bpf: %d passed, %d failed (skipped: no BPF)\n", t.pass, t.fail);
		return ci && !strcmp(ci, "true") ? 1 : 77;
	}
	snprintf(t.dir, sizeof(t.dir), "/tmp/bpfstub-axtest-XXXXXX");
	if (!mkdtemp(t.dir)) {
		CHECK(&t, 0, "mkdtemp: %s", strerror(errno));
		goto out;
	}
	for (k = 0; k < NVARS; k++)
		env.map[k] = (struct bpfc_tsv_slot){(__u32)k + 1, (__u32)k};
	env.mono_to_wall_us = (__s64)(now_us(CLOCK_REALTIME) - now_us(CLOCK_MONOTONIC));
	r = victim_recs__ring(&env.recs, &env.ring);
	CHECK(&t, !r, "ring buffer: %s", strerror(-r));
	env.counters = bpfc_counters__create(8);
	env.tsv = bpfc_tsv__create(NVARS);
	CHECK(&t, env.counters >= 0 && env.tsv >= 0, "maps: %d %d", env.counters, env.tsv);
	r = r ? r
	      : victim__build(t.dir, "victim", victim_src, "-no-pie -pthread", env.path,
			      sizeof(env.path));
	if (!r)
		r = victim__sym(env.path, "victim", &env.fn);
	if (!r)
		r = victim__sym(env.path, "vmem", &env.vmem);
	if (!r)
		r = victim__sym(env.path, "vstr", &env.vstr);
	if (!r)
		r = victim__sym(env.path, "vout", &env.vout);
	if (!r)
		r = victim__sym(env.path, "vin", &env.vin);
	if (!r)
		r = victim__launch(&env.v, env.path, true);
	CHECK(&t, !r, "victim: %s", strerror(-r));
	if (!r && env.counters >= 0 && env.tsv >= 0) {
		test_condition(&t, &env);
		test_collect(&t, &env);
		test_vars(&t, &env);
		test_build_msgs(&t, &env);
		test_differential(&t, &env);
		test_verifier(&t, &env);
	}
	victim__reap(&env.v);
	victim_recs__free(&env.recs);
	bpfc_ring__free(env.ring);
	if (env.counters >= 0)
		close(env.counters);
	if (env.tsv >= 0)
		close(env.tsv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t.dir);
	if (system(cmd))
		printf("cannot remove %s\n", t.dir);
out:
	printf("ax-bpf: %d passed, %d failed\n", t.pass, t.fail);
	return t.fail ? 1 : 0;
}
