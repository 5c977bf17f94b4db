/* SPDX-License-Identifier: MIT */
/*
 * stub/views/ctf.h - the stored frames as a CTF 1.8 trace directory
 * (`monitor tsave-ctf NAME`), for babeltrace2 and Trace Compass: a clock
 * of ns since the Unix epoch from each frame's $trace_timestamp, so the
 * traces of several nodes merge by time (`babeltrace2 nodeA/ nodeB/`).
 *
 * One event class per kind of tracepoint that makes frames, named
 * "bpfstub:" and the kind's name (bpfstub:gdb, bpfstub:monitor,
 * bpfstub:return); every event has the same fields:
 *
 *   tp          the tracepoint number
 *   pid         $trace_pid (a target of several processes), else the target's
 *   tid         $trace_thread (-1 when the frame has none)
 *   pc          where it was hit
 *   latency_ns  a return's $latency_ns, else CTF_NO_LATENCY (-1)
 *   frame       the frame's number in the store (monitor tframes, tfind)
 *   text        the frame's tframes line after its "tp N  "
 *
 * and the trace's env names the node: hostname, executable, pid, bpfstub's
 * version, frames written and frames lost (buffer full).
 */
#ifndef STUB_VIEWS_CTF_H
#define STUB_VIEWS_CTF_H

#include <stddef.h>

struct tgt;
struct trace;

#define CTF_NO_LATENCY (-1) /* latency_ns of a frame without $latency_ns */

/*
 * Write tr's stored frames (read through stub/views/frame.h and
 * tdump__line) as the directory name, with stub/trace/tracefile.h's rules:
 * beneath --save-dir (save_dir, opened as save_dirfd; refused without
 * one), no '..' or symlink, never an existing name, files 0600, written
 * whole or not at all.  *events: how many were written.  0 or -errno
 * with msg.
 */
int ctf__save(struct trace *tr, struct tgt *t, int save_dirfd, const char *save_dir,
	      const char *name, size_t *events, char *msg, size_t mlen);

#endif
