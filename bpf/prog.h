/* SPDX-License-Identifier: MIT */
/*
 * bpf/prog.h - a generated program, loaded; and the stop switch it may
 * start with.
 *
 * Two kinds of programs are generated: a tracepoint's collection
 * (bpf/collect.h) and a return probe's entry program (bpf/latency.h).  Both
 * are handed to the verifier the same way, and both may begin with a stop
 * switch; those two shared pieces live here, below both, so that neither
 * compiler needs the other for them (collect.c uses latency.c for the
 * latency block of a return, and nothing goes the other way).
 */
#ifndef BPF_PROG_H
#define BPF_PROG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>

struct bpfc_emit;

/*
 * A stop switch: entry id of a stop map (bpfc_stop__create()), one __u64,
 * 0 = on, anything else = off.  A program with a switch reads it before
 * anything else and returns at once when it is off.  Stopping a program is
 * one map update, answered at once; taking it off its uprobe waits for the
 * kernel (bpf/reap.h) and can then happen in the background.  A switch
 * turned off stays off for that program: a new program gets a new id.
 */
#define BPFC_STOP_SLOTS 16384

struct bpfc_stop {
	int fd; /* the stop map, -1: no switch */
	__u32 id;
};

struct bpfc_prog {
	struct bpf_insn *insns;
	size_t ninsns;
	__u32 tp;
	__u32 rec_size; /* bytes reserved in the ring buffer per hit */
	int fd;		/* loaded program, -1 before bpfc_prog__load() */
	bool multi;	/* load it for uprobe_multi links (bpf/probe.h), not perf events */
	char *log;	/* verifier log of a failed load (NUL-terminated), or NULL */
	char msg[192];	/* why bpfc_prog__build() failed: one line, for GDB */
};

/*
 * Load as BPF_PROG_TYPE_KPROBE, license GPL (for uprobe_multi links when
 * p->multi, set between build and load).  0, or -errno from the
 * kernel; on a verifier rejection p->log holds the log.
 */
int bpfc_prog__load(struct bpfc_prog *p);
void bpfc_prog__free(struct bpfc_prog *p);

/* A stop map of nslots switches, all on: fd, or -errno. */
int bpfc_stop__create(__u32 nslots);
/* Turn s on (a new program's) or off (stop it). */
int bpfc_stop__set(const struct bpfc_stop *s, bool on);
/* At a program's start (r1 = ctx, nothing else live): return 0 if s is off. */
void bpfc_stop__emit(struct bpfc_emit *e, const struct bpfc_stop *s);

#endif
