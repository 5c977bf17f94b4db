/* SPDX-License-Identifier: MIT */
/*
 * stub/program/tgtns.h - the target's PID and mount namespaces (containers).
 *
 * bpfstub is given the host's pid; these say what the container calls it
 * and turn the host's view of a chroot'ed target's paths into its own.
 */
#ifndef STUB_TGTNS_H
#define STUB_TGTNS_H

#include <stddef.h>
#include <sys/types.h>

struct tgt;

/*
 * The pids of the NSpid line of a /proc/PID/status text (len bytes, not
 * NUL-terminated): the reader's namespace first, the task's own last.
 * Returns how many (at most max stored), 0 when there is no valid line.
 */
size_t tgtns__parse_nspid(const char *status, size_t len, pid_t *ids, size_t max);
/* Fill t->ns_pid, t->own_mnt_ns and t->root_dir (tgt__attach calls it). */
void tgtns__init(struct tgt *t);
/* A thread's tid in the target's own pid namespace, 0 when it has none (or is gone). */
pid_t tgtns__tid(struct tgt *t, pid_t tid);
/* Cut the target's root directory (a chroot's, as the host sees it) from path, in place. */
void tgtns__path(const struct tgt *t, char *path);
/*
 * "pid 7 in its own pid namespace; its own mount namespace, files read
 * through /proc/1234/root" into out: its length, 0 (empty) when the target
 * shares bpfstub's namespaces and root.
 */
int tgtns__describe(const struct tgt *t, char *out, size_t len);

#endif
