/* SPDX-License-Identifier: MIT */
/*
 * bpf/reap.h - release uprobes without waiting for the kernel.
 *
 * Closing a uprobe's bpf_link and perf event waits for the kernel: taking
 * the program off the perf event waits for an RCU tasks-trace grace
 * period, and unregistering the uprobe waits again, ~110 ms per uprobe on
 * the 2-CPU VM of docs/PERFORMANCE.md, one uprobe after another.  A
 * serving thread that closed 1,000 of them would not answer for two
 * minutes.  bpfc_reap__probe() hands a probe's fds to a small pool of
 * threads that close them; the caller never waits.  Closes that run at the
 * same time wait for the same grace periods, so the pool releases many
 * uprobes in the time of a few.
 *
 * The program keeps running on its uprobe until the fds are closed: stop
 * it first (its stop switch, bpf/collect.h).  Until then the uprobe's int3
 * may still be in the target's code: bpfc_reap__patch() puts the original
 * bytes back into a read, as bpfc_probe__patch() does for an attached one.
 *
 * The threads touch nothing but the fds handed to them and the queue; they
 * block every signal.  bpfc_reap__drain() waits until everything handed
 * over is closed and ends the threads (at exit: the process's own exit
 * would close the fds one after another, and take as long).
 */
#ifndef BPF_REAP_H
#define BPF_REAP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "bpf/probe.h"

#define BPFC_REAP_THREADS 64	/* closing at once */
#define BPFC_REAP_TAGS	  16384 /* tags are 0..BPFC_REAP_TAGS-1 */

/*
 * Take p's fds (p is left detached, its fds -1) and close them in the
 * background.  tag (0..BPFC_REAP_TAGS-1, or -1) stays busy until they are
 * closed: the caller's stop switch, not to be given to another program
 * while this one may still run.  Never fails: without memory or a thread
 * the fds are closed here and now.
 */
void bpfc_reap__probe(struct bpfc_probe *p, int tag);
/* Is a probe handed over with this tag still open? */
bool bpfc_reap__busy(int tag);
/* Probes handed over and not closed yet. */
size_t bpfc_reap__pending(void);
/* bpfc_probe__patch() for every probe in pid not closed yet. */
void bpfc_reap__patch(pid_t pid, __u64 addr, void *buf, size_t len);
/* Wait until every probe handed over is closed; end the threads. */
void bpfc_reap__drain(void);

#endif
