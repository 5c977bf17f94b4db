/* SPDX-License-Identifier: MIT */
/*
 * bpf/procs.h - which processes a system-wide uprobe collects in.
 *
 * A uprobe is keyed by (file, offset): one per site serves every process
 * that maps the file (bpf/probe.h, bpfc_probe__attach_shared()).  When
 * only some of those processes are wanted (a chosen set, a process and its
 * descendants, or only the processes a client may debug), the collection
 * program looks its thread group id up in a *process map* (a BPF hash of
 * tgids) first and returns at once when it is absent (bpf/collect.c,
 * bpfc_spec.procs_fd).  User space adds and removes entries; a tracker
 * (three raw tracepoint programs) keeps the map true while processes fork,
 * exec and exit:
 *
 *   sched_process_fork  a new process (not a thread) whose parent's tgid is
 *                       in the map is added, before its first instruction
 *                       runs: a pre-forked worker, a replacement;
 *   sched_process_exit  the thread group leader's exit removes its tgid,
 *                       so a recycled pid is never collected by mistake;
 *   sched_process_exec  (optional) an exec removes the tgid: the process
 *                       may now run with other credentials (a set-id
 *                       file), and user space decides again.
 *
 * The child's pid and tgid are read from its task_struct, at offsets
 * taken from the kernel's BTF (/sys/kernel/btf/vmlinux), with
 * bpf_probe_read_kernel: nothing is compiled against kernel headers.
 */
#ifndef BPF_PROCS_H
#define BPF_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define BPFC_PROCS_MAX 65536 /* tgids one map holds */

/* A process map: fd or -errno. */
int bpfc_procs__create(void);
int bpfc_procs__add(int fd, __u32 tgid);
int bpfc_procs__del(int fd, __u32 tgid);
bool bpfc_procs__has(int fd, __u32 tgid);
/* Every tgid in the map into out[max]: how many (at most max), or -errno. */
int bpfc_procs__list(int fd, __u32 *out, size_t max);

struct bpfc_procs_track {
	int fork_fd, exit_fd, exec_fd; /* the programs, -1 none */
	int fork_link, exit_link, exec_link;
};

/*
 * Load and attach the tracker for map_fd (exec: also drop a process that
 * execs).  0, or -errno with a message in err.  Detach with _untrack (idempotent).
 */
int bpfc_procs__track(struct bpfc_procs_track *t, int map_fd, bool exec, char *err, size_t errlen);
void bpfc_procs__untrack(struct bpfc_procs_track *t);

#endif
