/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/guard.h - what a trace may cost the target: the overhead guard,
 * the trace's expiry, and the trace buffer's fill rate.
 *
 * A tracepoint costs the target a trap per hit (docs/PERFORMANCE.md:
 * ~17-20 us at an ordinary site on this VM, ~1 us on bare metal), and the
 * user chooses where.  On the server's poll tick (tr__poll) the guard
 * samples, every GUARD_PERIOD_US, each tracepoint's hit counter (the
 * per-CPU counters of its BPF program), the target's own CPU time
 * (utime + stime of /proc/PID/stat: the traps count as the target's system
 * time) and the frame store's totals.  Over the last GUARD_WINDOW_US it
 * computes each tracepoint's hit rate and the share of the target's CPU
 * its hits cost (hits x hit-cost, against the target's CPU time in the
 * same window).  A tracepoint past max-hit-rate or max-overhead has its
 * uprobe detached (the trap is the cost, so an early return in the
 * program would not do), is marked disabled (qTfP uploads it as 'D'), and
 * is named in tstatus's notes and `monitor status`; the others keep
 * collecting.  QTEnable (`tracepoint enable N`) re-attaches it and starts
 * its window afresh.
 *
 * The same tick ends a run older than trace-timeout (TR_STOP_EXPIRED).
 */
#ifndef STUB_GUARD_H
#define STUB_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace;
struct tp;
struct rsp_buf;

#define GUARD_SAMPLES	  16
#define GUARD_PERIOD_US	  250000u  /* a sample every 250 ms */
#define GUARD_WINDOW_US	  1000000u /* rates over the last second */
#define GUARD_MIN_SPAN_US 500000u  /* no verdict on less than half a second */
#define GUARD_FILL_US	  2000000u /* the fill rate: over the last 2 seconds */
/*
 * A tracepoint whose hits cost less than 5% of one CPU (2,500 hits/s at
 * 20 us) is never over max-overhead: on a mostly idle target a few hundred
 * hits/s are a large share of very little.
 */
#define GUARD_MIN_COST_PCT 5u

/* Per tracepoint location. */
struct guard_tp {
	uint64_t hits[GUARD_SAMPLES]; /* its hit counter at each sample */
	uint64_t since_us;	      /* attached at (CLOCK_MONOTONIC): no older sample counts */
	uint64_t rate;		      /* hits/s over the last window */
	uint32_t share;		      /* estimated % of the target's CPU, same window */
	bool measured;		      /* rate and share are set */
	bool over;		      /* over budget: tr__poll detaches it */
	bool tripped;		      /* detached by the guard */
	char why[256];		      /* what tripped it, for tstatus and monitor status */
};

/* Per trace: the samples, shared by every tracepoint. */
struct guard {
	uint64_t t_us[GUARD_SAMPLES];	/* CLOCK_MONOTONIC */
	uint64_t cpu_ns[GUARD_SAMPLES]; /* the target's utime + stime */
	uint64_t frames[GUARD_SAMPLES]; /* frames created (tcreated) */
	uint64_t bytes[GUARD_SAMPLES];	/* their bytes */
	size_t n;			/* samples taken since tstart */
	bool cpu_ok;			/* /proc/PID/stat was readable at every sample */
};

/* tstart: forget every sample (and, hit-cost auto, measure a hit the first time). */
void guard__reset(struct trace *tr);
/* What one hit is taken to cost: hit-cost, else the measured cost, else TR_HIT_COST_DEFAULT. */
uint32_t guard__hit_cost(const struct trace *tr);
/* tp was just attached (tstart, InstallInTrace, QTEnable): a fresh window. */
void guard__tp_attached(struct tp *tp);
/*
 * From tr__poll while running: sample, and mark what is over budget
 * (guard.over, with guard.why); true when the run has lasted its
 * trace-timeout, with the stop message in expired.  The guard only
 * decides: tr__poll detaches and stops (the guard sits below the trace).
 */
bool guard__tick(struct trace *tr, char *expired, size_t n);
/* The tracepoints the guard detached, one sentence each, "; " between; "" if none. */
void guard__notes(const struct trace *tr, char *out, size_t n);
/* monitor status: the fill rate and what the guard did, as console lines. */
void guard__status(struct trace *tr, struct rsp_buf *b);
/* monitor status, per tracepoint: its rate and share, or why it was detached. */
void guard__tp_status(const struct trace *tr, const struct tp *tp, struct rsp_buf *b);

#endif
