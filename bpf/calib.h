/* SPDX-License-Identifier: MIT */
/*
 * bpf/calib.h - what one uprobe hit costs on this kernel, measured.
 *
 * The overhead guard (stub/trace/guard.h) estimates the CPU a tracepoint costs
 * the target as hits x the cost of one hit.  That cost is the kernel's
 * (trap, the program, the single-step of the displaced instruction) and
 * varies by machine by more than an order of magnitude (~20 us on a VM
 * whose traps exit to the hypervisor, ~1 us on bare metal), so it is
 * measured rather than assumed: an empty BPF program on a uprobe at a
 * known instruction in bpfstub's own code (a load, which the kernel
 * single-steps out of line, as at most sites `trace FUNC` chooses), timed
 * over a few hundred calls against the same calls without the probe.
 * ~10 ms on a VM, once per bpfstub process.
 */
#ifndef BPF_CALIB_H
#define BPF_CALIB_H

#include <stddef.h>
#include <stdint.h>

/*
 * *ns = nanoseconds one hit adds to a call (at least 1).  0, or -errno
 * with a one-line reason in msg (no BPF, no uprobes, ...).
 */
int bpfc_calib__hit_cost(uint32_t *ns, char *msg, size_t mlen);

/*
 * What a return probe's own uprobes add to the latency it measures
 * (bpf/latency.h), per kind of entry site: ns[BPFC_LAT_EMULATED] for an
 * entry the kernel emulates (`push %rbp`), ns[BPFC_LAT_STEPPED] for one it
 * single-steps (a load), both with a `ret` (single-stepped) as the return
 * site.  Two functions of bpfstub's own that do nothing (assembly, fixed
 * instructions) are traced by the very entry program and return block a
 * return tracepoint has (bpfc_lat__entry_prog, bpfc_lat__emit_return) and
 * called CALIB_LAT_CALLS times each, interleaved; each call's latency is
 * the probes' cost alone, and the median is taken.  ~0.1 s once (mostly
 * the uprobes' release).  0, or -errno with a one-line reason in msg.
 */
int bpfc_calib__lat_bias(uint64_t ns[2], char *msg, size_t mlen);

#endif
