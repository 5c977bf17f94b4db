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
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpf/calib.h"
#include "bpf/clock.h"
#include "bpf/insn.h"
#include "bpf/probe.h"

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
