/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/trace_procs.h - a run over several processes of one executable
 * (a target with tr->tgt->set: stub/program/procset.h).
 *
 * The uprobes are the same as for one process but system-wide on the file
 * (bpf/probe.h, bpfc_probe__attach_shared): one per site, whatever the number
 * of processes.  Which processes collect is decided here:
 *
 *   --attach-exe, every client may see every process: no process map; the
 *       uprobe itself is the filter (every process running the file, those
 *       that start or exec it later included, from their first hit).
 *   --attach PID,PID,...: a process map (bpf/procs.h) holding those pids,
 *       written by the stub; an exit takes a pid out.
 *   --children: the map holds the root and its descendants running the
 *       file; the fork tracker adds each new child before it runs.
 *   a run started by a client that may debug only its own processes (the
 *       owner rule, docs/SECURITY.md): the map holds only processes that
 *       client owns, checked one by one from /proc; children forked by them
 *       join in the kernel (same credentials); an exec takes a process out
 *       until the stub checks it again (--attach-exe: every 250 ms, so a
 *       process that execs the file later is collected from then on).
 *
 * Each frame's process is in its $trace_pid V block; the frames of each
 * process are counted at the drain for `monitor status`.
 */
#ifndef STUB_TRACE_PROCS_H
#define STUB_TRACE_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/procs.h"

struct trace;
struct rsp_buf;

#define TR_PROCS_HITS_SLOTS 4096 /* distinct processes counted per run */

struct tr_procs {
	int map_fd; /* the process map, -1 when the uprobe alone decides */
	bool tracking;
	struct bpfc_procs_track track;
	/*
	 * Who may see frames.  The server sets viewer before any command of a
	 * client; a run keeps the one that started it (audience).  -1: every
	 * process; else only those this uid owns (gid too when known).
	 */
	int64_t viewer_uid;
	bool viewer_gid_known;
	uint32_t viewer_gid;
	int64_t audience_uid;
	bool audience_gid_known;
	uint32_t audience_gid;
	/* frames per process this run (open addressing on pid; 0 = free) */
	struct tr_proc_hits {
		uint32_t pid;
		uint64_t frames;
	} * hits;	     /* TR_PROCS_HITS_SLOTS, allocated at the first frame */
	uint64_t hits_other; /* frames of processes past the table */
	/* CPU time of the set, summed over each process's increments (guard) */
	struct {
		uint32_t pid;
		uint64_t ns;
	} * cpu;
	size_t ncpu;
	uint64_t cpu_total_ns;
};

/* Is the target several processes? */
bool tr_procs__multi(const struct trace *tr);
void tr_procs__init(struct trace *tr);
void tr_procs__fini(struct trace *tr);
/* At tstart, before any program is built: the map and tracker.  0 or -errno + msg. */
int tr_procs__start(struct trace *tr, char *msg, size_t mlen);
/* The run ended: the tracker goes (the map stays for the next run). */
void tr_procs__stop(struct trace *tr);
/* Every guard period while running: admit processes that joined (restricted --attach-exe). */
void tr_procs__tick(struct trace *tr);
/* A frame of pid was stored. */
void tr_procs__count(struct trace *tr, uint32_t pid);
/* The n processes with most frames, most first: how many filled. */
size_t tr_procs__top(const struct trace *tr, uint32_t *pids, uint64_t *frames, size_t n);
/* `monitor status` lines: the set, where it collects, the 5 processes with most frames. */
void tr_procs__status(struct trace *tr, struct rsp_buf *b);
/* The set's CPU time so far (utime + stime, ns): 0 or -errno. */
int tr_procs__cpu_ns(struct trace *tr, uint64_t *ns);

#endif
