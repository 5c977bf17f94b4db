/* SPDX-License-Identifier: MIT */
/*
 * bpf/calib.c - the measured cost of one uprobe hit (see calib.h).
 *
 * The probed instruction is fixed by hand (assembly below), so the
 * measurement does not depend on how the compiler laid out a C function
 * (an -O0 or sanitizer build starts functions with `push %rbp`, which the
 * kernel emulates in one trap and would make hits look ~40x cheaper).
 * The empty program is the two instructions any BPF program has; what
 * bpfstub's own programs add (~0.1-0.5 us) is within the noise of the
 * trap on the machines where the guard matters (docs/PERFORMANCE.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpf/calib.h"
#include "bpf/clock.h"
#include "bpf/emit.h"
#include "bpf/insn.h"
#include "bpf/latency.h"
#include "bpf/probe.h"
#include "bpf/prog.h"
#include "bpf/record.h"

/* long bpfc_calib__site(const long *p) { return *p + 1; }, starting with a load. */
__asm__(".pushsection .text\n"
	".globl bpfc_calib__site\n"
	".type bpfc_calib__site, @function\n"
	"bpfc_calib__site:\n"
	"\tmovq (%rdi), %rax\n"
	"\taddq $1, %rax\n"
	"\tret\n"
	".size bpfc_calib__site, .-bpfc_calib__site\n"
	".popsection\n");
long bpfc_calib__site(const long *p);

#define CALIB_WARMUP 20
#define CALIB_CALLS  400

/* Nanoseconds for n calls of the site. */
static uint64_t time_calls(int n)
{
	long (*volatile fn)(const long *) = bpfc_calib__site;
	volatile long sink = 0;
	long v = 1;
	uint64_t t0 = bpfc_clock__ns(CLOCK_MONOTONIC);
	int i;

	for (i = 0; i < n; i++)
		sink += fn(&v);
	(void)sink;
	return bpfc_clock__ns(CLOCK_MONOTONIC) - t0;
}

int bpfc_calib__hit_cost(uint32_t *ns, char *msg, size_t mlen)
{
	static const struct bpf_insn empty[] = {BPF_MOV64_IMM(BPFC_R0, 0), BPF_EXIT_INSN()};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = (enum bpf_attach_type)bpfc_probe__prog_attach_type());
	struct bpfc_probe p;
	uint64_t base, probed, per;
	char why[200] = "";
	int fd, err;

	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bpfstub_calib", "GPL", empty, 2, &opts);
	if (fd < 0) {
		snprintf(msg, mlen, "cannot load an empty BPF program: %s", strerror(-fd));
		return fd;
	}
	memset(&p, 0, sizeof(p));
	p.perf_fd = -1;
	p.link_fd = -1;
	err = bpfc_probe__attach(&p, getpid(), (uint64_t)(uintptr_t)bpfc_calib__site, fd,
				 BPFC_PROBE_PATH_AUTO, why, sizeof(why));
	if (err) {
		snprintf(msg, mlen, "cannot put a uprobe on bpfstub itself: %s", why);
		goto cleanup;
	}
	time_calls(CALIB_WARMUP);
	probed = time_calls(CALIB_CALLS);
	bpfc_probe__detach(&p);
	base = time_calls(CALIB_CALLS);
	per = probed > base ? (probed - base) / CALIB_CALLS : 0;
	*ns = per ? (per > UINT32_MAX ? UINT32_MAX : (uint32_t)per) : 1;
cleanup:
	bpfc_probe__detach(&p);
	close(fd);
	return err;
}

/*
 * The latency bias's sites: two functions that do nothing, one entered by
 * `push %rbp` (emulated), one by a load (single-stepped), each leaving by
 * `ret` at a label of its own.
 */
__asm__(".pushsection .text\n"
	".globl bpfc_calib__lat_emul\n"
	".type bpfc_calib__lat_emul, @function\n"
	"bpfc_calib__lat_emul:\n"
	"\tpushq %rbp\n"
	"\tpopq %rbp\n"
	".globl bpfc_calib__lat_emul_ret\n"
	"bpfc_calib__lat_emul_ret:\n"
	"\tret\n"
	".size bpfc_calib__lat_emul, .-bpfc_calib__lat_emul\n"
	".globl bpfc_calib__lat_step\n"
	".type bpfc_calib__lat_step, @function\n"
	"bpfc_calib__lat_step:\n"
	"\tmovq (%rdi), %rax\n"
	".globl bpfc_calib__lat_step_ret\n"
	"bpfc_calib__lat_step_ret:\n"
	"\tret\n"
	".size bpfc_calib__lat_step, .-bpfc_calib__lat_step\n"
	".popsection\n");
long bpfc_calib__lat_emul(const long *p);
long bpfc_calib__lat_step(const long *p);
extern const char bpfc_calib__lat_emul_ret[], bpfc_calib__lat_step_ret[];

#define CALIB_LAT_CALLS 101
#define CALIB_LAT_NONE	UINT64_MAX
/* The fake record of the calibration's return program, on its stack. */
#define FAKE_REC (-128)
#define FAKE_BLK 19 /* V block's value at FAKE_REC + 24: 8-aligned, as the verifier wants */

/*
 * The return program: a return tracepoint's latency block (bpfc_lat__emit_return)
 * written into a record on the stack, its value then stored in out_fd[0]
 * (CALIB_LAT_NONE: no entry seen).
 */
static int lat_return_prog(const struct bpfc_lat *lat, int out_fd, struct bpfc_prog *out)
{
	struct bpfc_emit e;
	int l_have = -1, l_skip, err;

	bpfc_emit__init(&e);
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R6, BPFC_R1));
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R7, BPFC_R10));
	bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_ADD, BPFC_R7, FAKE_REC));
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_ktime_get_ns));
	bpfc_emit__insn(&e,
			BPF_STX_MEM(BPF_DW, BPFC_R7, BPFC_R0, 8 /* struct bpfc_rec.ktime_ns */));
	bpfc_lat__emit_return(&e, lat, FAKE_BLK);
	l_skip = bpfc_emit__label(&e);
	l_have = bpfc_emit__label(&e);
	bpfc_emit__insn(&e, BPF_LDX_MEM(BPF_DW, BPFC_R9, BPFC_R7, FAKE_BLK + 5));
	bpfc_emit__insn(&e, BPF_LDX_MEM(BPF_B, BPFC_R1, BPFC_R7, FAKE_BLK));
	bpfc_emit__jmp(&e, BPF_JMP_IMM(BPF_JEQ, BPFC_R1, BPFC_BLK_TSV, 0), l_have);
	bpfc_emit__ld_imm64(&e, BPFC_R9, 0, CALIB_LAT_NONE);
	bpfc_emit__bind(&e, l_have);
	bpfc_emit__insn(&e, BPF_ST_MEM(BPF_W, BPFC_R10, -4, 0));
	bpfc_emit__ld_map_fd(&e, BPFC_R1, out_fd);
	bpfc_emit__insn(&e, BPF_MOV64_REG(BPFC_R2, BPFC_R10));
	bpfc_emit__insn(&e, BPF_ALU64_IMM(BPF_ADD, BPFC_R2, -4));
	bpfc_emit__insn(&e, BPF_EMIT_CALL(BPF_FUNC_map_lookup_elem));
	bpfc_emit__jmp(&e, BPF_JMP_IMM(BPF_JEQ, BPFC_R0, 0, 0), l_skip);
	bpfc_emit__insn(&e, BPF_STX_MEM(BPF_DW, BPFC_R0, BPFC_R9, 0));
	bpfc_emit__bind(&e, l_skip);
	bpfc_emit__insn(&e, BPF_MOV64_IMM(BPFC_R0, 0));
	bpfc_emit__insn(&e, BPF_EXIT_INSN());
	err = bpfc_emit__finish(&e);
	if (!err) {
		out->insns = bpfc_emit__take(&e, &out->ninsns);
		out->multi = bpfc_probe__multi_ok();
		err = bpfc_prog__load(out);
	}
	bpfc_emit__free(&e);
	return err;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int bpfc_calib__lat_bias(uint64_t ns[2], char *msg, size_t mlen)
{
	long (*volatile fn[2])(const long *) = {bpfc_calib__lat_emul, bpfc_calib__lat_step};
	const uint64_t entry[2] = {(uint64_t)(uintptr_t)bpfc_calib__lat_emul,
				   (uint64_t)(uintptr_t)bpfc_calib__lat_step};
	const uint64_t ret[2] = {(uint64_t)(uintptr_t)bpfc_calib__lat_emul_ret,
				 (uint64_t)(uintptr_t)bpfc_calib__lat_step_ret};
	struct bpfc_lat lat = {
		.map_fd = -1, .clamp_fd = -1, .tsv = 3 /* any: the block is read here */};
	struct bpfc_prog eprog = {.fd = -1}, rprog = {.fd = -1};
	struct bpfc_probe p[4];
	uint64_t samples[2][CALIB_LAT_CALLS];
	size_t got[2] = {0, 0};
	char why[200] = "";
	int out_fd = -1, err, i, k;
	__u32 key = 0;
	long v = 1;

	memset(p, 0, sizeof(p));
	for (i = 0; i < 4; i++)
		p[i].perf_fd = p[i].link_fd = -1;
	lat.map_fd = bpfc_lat__map_create();
	out_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfc_latcal", sizeof(__u32), sizeof(__u64), 1,
				NULL);
	if (lat.map_fd < 0 || out_fd < 0) {
		err = lat.map_fd < 0 ? lat.map_fd : out_fd;
		snprintf(msg, mlen, "cannot create a BPF map: %s", strerror(-err));
		goto cleanup;
	}
	err = bpfc_lat__entry_prog(&lat, NULL, &eprog);
	if (!err)
		err = lat_return_prog(&lat, out_fd, &rprog);
	if (err) {
		snprintf(msg, mlen, "the kernel refused the calibration's programs: %s",
			 strerror(-err));
		goto cleanup;
	}
	for (k = 0; k < 2 && !err; k++) {
		err = bpfc_probe__attach_ex(&p[2 * k], getpid(), entry[k], eprog.fd, eprog.multi,
					    BPFC_PROBE_PATH_AUTO, 0, why, sizeof(why));
		if (!err)
			err = bpfc_probe__attach_ex(&p[2 * k + 1], getpid(), ret[k], rprog.fd,
						    rprog.multi, BPFC_PROBE_PATH_AUTO, 0, why,
						    sizeof(why));
	}
	if (err) {
		snprintf(msg, mlen, "cannot put a uprobe on bpfstub itself: %s", why);
		goto cleanup;
	}
	/* Interleaved, so both kinds see the same load; the first calls warm up. */
	for (i = -5; i < CALIB_LAT_CALLS; i++) {
		for (k = 0; k < 2; k++) {
			uint64_t s = CALIB_LAT_NONE;

			bpf_map_update_elem(out_fd, &key, &s, BPF_ANY);
			fn[k](&v);
			if (i < 0 || bpf_map_lookup_elem(out_fd, &key, &s) || s == CALIB_LAT_NONE)
				continue;
			samples[k][got[k]++] = s;
		}
	}
	for (k = 0; k < 2; k++) {
		if (got[k] < CALIB_LAT_CALLS / 2) {
			snprintf(msg, mlen, "the calibration's probes fired %zu times of %d",
				 got[k], CALIB_LAT_CALLS);
			err = -EIO;
			goto cleanup;
		}
		qsort(samples[k], got[k], sizeof(samples[k][0]), cmp_u64);
		ns[k] = samples[k][got[k] / 2];
	}
cleanup:
	for (i = 0; i < 4; i++)
		bpfc_probe__detach(&p[i]);
	bpfc_prog__free(&eprog);
	bpfc_prog__free(&rprog);
	if (lat.map_fd >= 0)
		close(lat.map_fd);
	if (out_fd >= 0)
		close(out_fd);
	return err;
}
