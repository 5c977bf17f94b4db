/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/trace.h - tracepoints, trace state variables and the trace run.
 *
 * One struct trace lives as long as the server (not a client session), so
 * a run can outlast the connection that started it.  It holds what GDB
 * defined (QTDP, QTDPsrc, QTDV, QTro, QTBuffer, QTNotes), turns each
 * enabled tracepoint into one BPF program on a uprobe when the run starts
 * (or at once, when GDB adds one during a run), moves records from the BPF
 * ring buffer into the frame store on every server tick, and decides when
 * the run stops and why (tstop, tfull, tpasscount, terror, tdisconnected).
 */
#ifndef STUB_TRACE_H
#define STUB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bpf/ax.h"
#include "bpf/collect.h"
#include "bpf/probe.h"
#include "stub/trace/framestore.h"
#include "stub/trace/guard.h"
#include "stub/trace/trace_procs.h"

struct rsp_buf;
struct tgt;
struct deep;
struct program;
struct bpfc_ring;
struct rsp_qtdp_hdr;
struct rsp_qtdp_actions;
struct rsp_qtdpsrc;
struct rsp_qtdv;
struct rsp_qtro;
struct tp_mon; /* stub/trace/montrace.h */
struct tp_ret; /* stub/trace/retprobe.h */
struct tp_hist; /* stub/trace/histo.c */
struct tp_kind;
struct bpfc_lat; /* bpf/latency.h */
struct audit;	 /* stub/base/audit.h */

enum tp_action_kind {
	TPA_REGS,
	TPA_MEM,
	TPA_EXPR,
};

struct tp_action {
	enum tp_action_kind kind;
	uint64_t regmask[2];
	int32_t basereg;
	int64_t offset;
	uint64_t len;
	uint8_t *ax; /* agent expression bytecode */
	size_t axlen;
	char *wire; /* the action as GDB sent it, for qTfP upload */
};

struct tp_src {
	char type[8];
	char *hex; /* the QTDPsrc text, hex as sent */
	uint64_t start, slen;
};

struct tp {
	uint32_t num;
	uint64_t addr;
	bool enabled;
	uint64_t step;
	uint64_t pass;
	uint8_t *cond;
	size_t condlen;
	struct tp_action *act;
	size_t nact;
	struct tp_src *src;
	size_t nsrc;
	bool complete; /* GDB sent its last packet (see settle() in trace.c) */
	/*
	 * Its kind (struct tp_kind below): never NULL.  The kind's own data
	 * (mon, ret) is set and freed only through its operations; the views
	 * read it.
	 */
	const struct tp_kind *kind;
	struct tp_mon *mon; /* defined by `monitor trace` (stub/trace/montrace.c); NULL: by GDB */
	struct tp_ret
		*ret; /* a `monitor trace -return` location (stub/trace/retprobe.c), or NULL */
	struct tp_hist *hist; /* a histogram or count location (stub/trace/histo.c), or NULL */

	/* during a run */
	bool installed;
	uint32_t slot;
	struct bpfc_prog prog;
	struct bpfc_probe probe;
	struct bpfc_stop stop; /* prog's stop switch (bpf/collect.h), while stop_held */
	bool stop_held;
	uint64_t frames; /* stored in the frame store this run */
	uint64_t bytes;	 /* their size */
	uint64_t late;	 /* records that arrived after the run stopped */
	uint64_t unread; /* records left in the ring when the run stopped: dropped */
	/* Why its SDT probe may not fire though attached (stub/program/sdt.h), or NULL. */
	const char *sdt_hint;

	/* its hit rate and cost (stub/trace/guard.h) */
	struct guard_tp guard;
};

/*
 * What a kind adds to a location's program (stub/trace/trace_prog.c):
 * filled with GDB's defaults, then changed by the kind's prepare.
 */
struct tp_build {
	bool regs;		/* collect the registers (R block) */
	uint32_t stack_window;	/* bytes of stack above rsp, or TR_STACK_WINDOW_FP */
	struct bpfc_lat *lat;	/* the latency since the entry (bpf/latency.h), or NULL */
	struct bpfc_mem mem[2]; /* ranges after GDB's (room allowing) */
	size_t nmem;
};

/*
 * A kind of tracepoint, as a table of operations: GDB's (tp_kind_gdb,
 * stub/trace/trace.c), `monitor trace` (tp_kind_mon, stub/trace/montrace.c)
 * and `monitor trace -return` (tp_kind_ret, stub/trace/retprobe.c).  The
 * trace core calls a location's kind through tp->kind and never names one,
 * so a new kind is a new table in its own file, not a branch in every file
 * of the core.  Every operation may be NULL (nothing to do).
 */
struct tp_kind {
	const char *name;
	/*
	 * The stub's own, not GDB's: it outlives QTinit, and a number GDB
	 * defines takes precedence (the location moves to a free number).
	 */
	bool outlives_qtinit;
	/* Before its program is built: what it needs (maps, programs), what it adds (b). */
	int (*prepare)(struct trace *tr, struct tp *tp, struct tp_build *b, char *msg, size_t mlen);
	/* Deep collection: append expressions to out[*n] (room for max). */
	void (*deep)(struct trace *tr, const struct tp *tp, struct bpfc_expr *out, size_t *n,
		     size_t max);
	/* Before tp's uprobe is attached; after it is detached (entry_get succeeded). */
	int (*entry_get)(struct trace *tr, struct tp *tp, char *msg, size_t mlen);
	void (*entry_put)(struct tp *tp);
	/* Does the kind's own program hold stop switch id (tr__stop_take)? */
	bool (*holds_stop)(const struct tp *tp, uint32_t id);
	/* Its own probes' int3 out of a live memory read (tr__unpatch). */
	void (*unpatch)(const struct tp *tp, uint64_t addr, void *buf, size_t len);
	/* tr__define_loc: tp takes data (a reference). */
	void (*take)(struct tp *tp, void *data);
	/* GDB redefines from: what of it stays, moved to the new definition to. */
	void (*keep)(struct tp *from, struct tp *to);
	/* Its own data (tr__tp_free). */
	void (*free)(struct tp *tp);
	/*
	 * Its own program in place of a frame-collecting one (a histogram:
	 * stub/trace/histo.c): built and loaded into tp->prog, with tp->stop
	 * already taken.  NULL: trace_prog.c builds the frame program.
	 */
	int (*load)(struct trace *tr, struct tp *tp, char *msg, size_t mlen);
	/* Its hits make no frame: the guard's max-hit-rate does not apply, only max-overhead. */
	bool no_frames;
};

extern const struct tp_kind tp_kind_gdb;

struct tp_tsv {
	uint32_t num;
	int64_t initial;
	int64_t value;
	bool builtin;
	char *name_hex;
};

/*
 * Settings (monitor set ..., stub/serve/monitor.c).  A change applies to the
 * tracepoints installed after it (the next tstart, or one added during a
 * run).  The defaults are chosen by measurement (docs/PERFORMANCE.md).
 */
#define TR_DEEP_BUDGET_DEFAULT 2048u /* bytes per hit for deep collection */
#define TR_DEEP_BUDGET_MAX     16384u
/*
 * stack-window fp: the frame-pointer chain (TR_FP_FRAMES records of 16
 * bytes, walked in the kernel: bpf/fpchain.h) and TR_FP_WINDOW bytes above
 * rsp; where the chain is broken, the records' room as a wider window
 * (TR_FP_WIDE bytes).  The default: docs/PERFORMANCE.md, "Call stacks".
 */
#define TR_STACK_WINDOW_FP	0xffffffffu
#define TR_FP_FRAMES		64u
#define TR_FP_WINDOW		512u
#define TR_FP_WIDE		(TR_FP_WINDOW + 16u * TR_FP_FRAMES)
#define TR_STACK_WINDOW_DEFAULT TR_STACK_WINDOW_FP
#define TR_STACK_WINDOW_MAX	8192u /* bytes of a plain window */
/*
 * Registers in every frame of a GDB tracepoint, whatever its actions (1 on,
 * 0 off: gdbserver's strict behaviour).  GDB 13 sends no action for a
 * `collect $args` it finds nothing for ("No args found in scope": an -O2
 * function whose entry lies in a lexical block) and refuses it for a Go
 * string ("Expression pieces exceed word size"), so without them such a
 * frame holds nothing and every argument is <unavailable>, though the
 * registers held them at the hit.  Costs an R block per frame
 * (docs/PERFORMANCE.md, "Registers in every frame").
 */
#define TR_ALWAYS_REGS_DEFAULT 1u
/*
 * The overhead guard (stub/trace/guard.h).  A hit costs ~17-20 us at an ordinary
 * (single-stepped) site on this VM and ~0.5 us where the kernel emulates
 * the instruction (docs/PERFORMANCE.md): hit-cost (auto: measured on the
 * kernel at an ordinary site, bpf/calib.h) takes the dear case, so the CPU
 * estimate errs on the side of the target.  Measured with the Go
 * test server's handler traced under a closed-loop load (PERFORMANCE.md,
 * "The overhead guard"): ~30% estimated for requests of ~70 us of server
 * CPU (throughput -6%: left alone), ~43% for tiny ones (throughput
 * halved: detached); a function in a tight loop: ~100%, ~100,000 hits/s.
 */
#define TR_MAX_HIT_RATE_DEFAULT 20000u	  /* hits/s per tracepoint location */
#define TR_MAX_HIT_RATE_MAX	10000000u /* beyond what any trap allows */
#define TR_MAX_OVERHEAD_DEFAULT 40u	  /* % of the target's CPU, per location */
#define TR_MAX_OVERHEAD_MAX	100u
#define TR_HIT_COST_DEFAULT	20000u /* ns per hit when it cannot be measured (auto) */
#define TR_HIT_COST_MAX		10000000u
/*
 * The latency bias (docs/RETPROBE.md, "Latency bias"): what a return
 * tracepoint's own entry and return probes add to $latency_ns, subtracted in
 * the kernel.  latency-bias auto (0) measures it on this kernel at the first
 * use (bpf/calib.h), per kind of entry site; TR_LAT_BIAS_OFF subtracts
 * nothing; any other value is ns subtracted from every return tracepoint.
 */
#define TR_LAT_BIAS_OFF UINT32_MAX
#define TR_LAT_BIAS_MAX 10000000u
/* A run nobody stops ends after this long (seconds); 0 = never. */
#define TR_TRACE_TIMEOUT_DEFAULT 3600u
#define TR_TRACE_TIMEOUT_MAX	 (30u * 86400u)
/* Seconds a debug file's download from debuginfod may block the server; 0 = off. */
#define TR_DEBUGINFOD_DEFAULT 10u
#define TR_DEBUGINFOD_MAX     3600u

/* The builtin trace state variables every frame carries (V blocks). */
#define TR_TSV_TIMESTAMP 1 /* wall-clock microseconds of the hit */
#define TR_TSV_THREAD	 2 /* the hitting thread's id */
#define TR_TSV_LATENCY                                                                             \
	3	     /* return tracepoints' frames: ns since the entry (stub/trace/retprobe.c) */
#define TR_TSV_PID 4 /* a multi-process target's frames: the hitting process's id */

/*
 * Who watches the run: whoever creates the trace sets tr->events (the
 * server: stub/trace/audit_trace.c's audit_tr__events), NULL: nobody.  The
 * trace tells it what it did by itself: a run started, a run ended (once,
 * whatever the reason), the overhead guard detached a location.
 */
struct tr_events {
	void (*started)(struct trace *tr);
	void (*stopped)(struct trace *tr);
	void (*detached)(struct trace *tr, const struct tp *tp, const char *why);
};

enum tr_stop {
	TR_NOT_RUN,
	TR_RUNNING,
	TR_STOP_USER,	      /* tstop */
	TR_STOP_FULL,	      /* tfull */
	TR_STOP_PASS,	      /* tpasscount:<tp> */
	TR_STOP_ERROR,	      /* terror:<msg>:<tp> */
	TR_STOP_DISCONNECTED, /* tdisconnected */
	TR_STOP_EXPIRED,      /* tstop:<note>: trace-timeout reached */
};

struct trace {
	struct tgt *tgt;
	struct program
		*pgm; /* what is known about tgt: DWARF, SDT notes (stub/program/program.h) */
	struct tp *tps;
	size_t ntps;
	struct tp_tsv *tsvs;
	size_t ntsvs;
	struct {
		uint64_t start, end;
	} * ro;
	size_t nro;
	uint32_t deep_budget;  /* bytes per hit for deep collection; 0 = off */
	uint32_t stack_window; /* bytes of stack above rsp collected per hit; 0 = off;
				  TR_STACK_WINDOW_FP: the frame-pointer chain */
	uint32_t always_regs;  /* registers in every frame (TR_ALWAYS_REGS_DEFAULT); 0 = off */

	/* The overhead guard and expiry (stub/trace/guard.h); 0 = off. */
	uint32_t max_hit_rate; /* hits/s per location before the guard detaches it */
	uint32_t max_overhead; /* % of the target's CPU per location */
	uint32_t hit_cost_ns;  /* what one hit is taken to cost the target; 0: auto (measured) */
	uint32_t
		hit_cost_measured; /* auto: bpfc_calib__hit_cost() at the first tstart, 0 not yet */
	char hit_cost_msg[160];	   /* auto: why it could not be measured ("" if it was) */
	uint32_t lat_bias;	   /* setting: 0 auto (measured), TR_LAT_BIAS_OFF off, else ns */
	/*
	 * The latency bias of this run's return tracepoints, ns: the run's
	 * default (a single-stepped entry, Go's and -O2 C's), set when the first
	 * return location is installed (at tstart); each location's own, by the
	 * kinds of its sites, is its struct bpfc_lat's bias_ns (retprobe.h; a
	 * latency histogram's too, stub/trace/histo.c).
	 */
	uint64_t lat_bias_ns;
	uint64_t lat_bias_measured[2]; /* auto: by entry kind (bpf/latency.h), 0 not yet */
	char lat_bias_msg[160];	       /* auto: why it could not be measured ("" if it was) */
	char lat_bias_note[256];       /* what was subtracted, for qTStatus notes and tsave */
	uint32_t trace_timeout;	   /* seconds a run may last */
	uint32_t debuginfod;	   /* seconds per debug file from debuginfod; 0 = off */
	struct guard guard;

	struct tf_store store;
	size_t buf_size; /* QTBuffer:size, 0 = default */
	bool circular;
	bool disconnected_ok; /* QTDisconnected:1 */
	char *user_hex, *notes_hex, *stop_notes_hex;

	enum tr_stop state;
	uint32_t stop_tp;
	char stop_msg[256];
	uint64_t start_us, stop_us;
	uint64_t start_mono_us; /* CLOCK_MONOTONIC at tstart, for trace-timeout */

	struct bpfc_ring *ring;
	bool consuming;	 /* inside a drain of the ring: the ring must stay */
	bool discarding; /* the run ends: records are counted as dropped, not stored */
	bool backlog;	 /* the last drain stopped at its budget: records may be left */
	int counters_fd;
	int tsv_fd;	    /* trace state variables: slot i is tsvs[i] */
	int gate_fd;	    /* pass-count gate, one slot per location */
	int stop_fd;	    /* stop switches: one per program (bpf/collect.h), any run */
	uint32_t stop_next; /* the next switch to try */
	uint32_t nslots;
	uint64_t lost;		  /* records that did not fit (store full) */
	uint64_t mono_to_wall_us; /* add to CLOCK_MONOTONIC for wall-clock time */
	char *auxv;		  /* at tstart: an exec changes it */
	size_t auxv_len;
	unsigned ticks;

	struct tr_procs procs; /* several processes (stub/trace/trace_procs.h) */

	struct deep *deep;		/* deep-collection notes (stub/trace/deep.h) */
	struct audit *audit;		/* audit events (stub/trace/audit_trace.h); NULL: none */
	const struct tr_events *events; /* the run's watcher (above); NULL: none */
};

/*
 * The walk over every location, in slot order, for every file but the
 * trace's own:
 *	struct tp *tp;
 *	tr__foreach(tr, tp) ...
 * The body must not add or remove locations.
 */
static inline struct tp *tr__next(const struct trace *tr, const struct tp *tp)
{
	size_t i = tp ? (size_t)(tp - tr->tps) + 1 : 0;

	return i < tr->ntps ? &tr->tps[i] : NULL;
}
#define tr__foreach(tr, tp) for ((tp) = tr__next((tr), NULL); (tp); (tp) = tr__next((tr), (tp)))

int tr__init(struct trace *tr, struct tgt *t);
void tr__fini(struct trace *tr);
/* QTinit: stop, forget every definition and frame. */
int tr__clear(struct trace *tr);

/* Definitions.  On an error, msg gets text for an "E." reply. */
int tr__define(struct trace *tr, const struct rsp_qtdp_hdr *h, char *msg, size_t mlen);
int tr__define_actions(struct trace *tr, const struct rsp_qtdp_actions *a, const char *wire,
		       size_t wlen, char *msg, size_t mlen);
int tr__define_src(struct trace *tr, const struct rsp_qtdpsrc *s, char *msg, size_t mlen);
int tr__define_tsv(struct trace *tr, const struct rsp_qtdv *v, char *msg, size_t mlen);
int tr__set_ro(struct trace *tr, const struct rsp_qtro *ro);
int tr__enable(struct trace *tr, uint32_t num, uint64_t addr, bool on, char *msg, size_t mlen);
struct tp *tr__find(struct trace *tr, uint32_t num, uint64_t addr);
/* The first location of tracepoint num (what a frame of num was hit at, as gdbserver); NULL none.
 */
const struct tp *tr__first(const struct trace *tr, uint32_t num);
/* The number a tracepoint defined here takes: one above every number in use. */
uint32_t tr__next_num(const struct trace *tr);
/*
 * A whole definition made here (monitor trace): tr takes in's allocations
 * (in is zeroed), gives it a slot, and installs it at once during a run.
 * On an error nothing is left behind (in's allocations are freed).
 */
int tr__add(struct trace *tr, struct tp *in, char *msg, size_t mlen);
/* Forget every location of tracepoint num, detaching it first: 0 or -ENOENT. */
int tr__delete(struct trace *tr, uint32_t num, char *msg, size_t mlen);
/* Room for n more locations?  -E2BIG with msg if not. */
int tr__room(struct trace *tr, size_t n, char *msg, size_t mlen);
/*
 * One location of a tracepoint of the stub's own kind (a return
 * tracepoint: stub/trace/retprobe.c): defined complete and enabled, given
 * data by kind->take, with condition bytecode cond (copied; condlen 0:
 * none), installed at once while a run is on.
 */
int tr__define_loc(struct trace *tr, uint32_t num, uint64_t addr, const struct tp_kind *kind,
		   void *data, const uint8_t *cond, size_t condlen, char *msg, size_t mlen);
/*
 * The one free sequence of a definition: what the trace allocated, then
 * the kind's own (kind->free); tp is zeroed.
 */
void tr__tp_free(struct tp *tp);

/* The run. */
int tr__start(struct trace *tr, char *msg, size_t mlen);
int tr__stop(struct trace *tr, enum tr_stop why, uint32_t tp, const char *msg);
/*
 * Drain the ring buffer into the store (a bounded amount: stub/trace/trace.c),
 * check stop conditions, run the guard and the expiry.
 */
int tr__poll(struct trace *tr);
/* A run is on and the last drain left records in the ring: poll again soon. */
bool tr__backlog(const struct trace *tr);
static inline bool tr__running(const struct trace *tr)
{
	return tr->state == TR_RUNNING;
}
/* The run's state in words ("running", "stopped by tstop", ...), for monitor output. */
const char *tr__state_name(enum tr_stop state);

/* Replies. */
int tr__status(struct trace *tr, struct rsp_buf *r);
int tr__tp_status(struct trace *tr, uint32_t num, uint64_t addr, struct rsp_buf *r);
/* Hits of this run: the kernel's count less those after the run stopped. */
uint64_t tr__hits(struct trace *tr, const struct tp *tp);
/* tp's counters (hits, frames, drops), records never read from the ring counted as dropped. */
static inline void tr__counts(struct trace *tr, const struct tp *tp, struct bpfc_counts *c)
{
	memset(c, 0, sizeof(*c));
	if (tr->counters_fd >= 0)
		bpfc_counters__read(tr->counters_fd, tp->slot, c);
	/* Written to the ring, never read: dropped all the same. */
	c->drops += tp->unread;
	c->frames -= tp->unread < c->frames ? tp->unread : c->frames;
}

/*
 * Every definition as qTfP/qTsP items ("T...", "A...", "Z..."), in the
 * order GDB needs them (descending tracepoint number).  Stops at cb's
 * first non-zero return.
 */
int tr__upload(struct trace *tr, int (*cb)(void *ctx, const char *item), void *ctx);

/*
 * A stop switch for a new program (bpf/collect.h), turned on: one that no
 * program held here uses, nor any uprobe still being released (bpf/reap.h).
 * Handed out by stub/trace/trace_prog.c, which owns the programs.
 */
int tr__stop_take(struct trace *tr, struct bpfc_stop *s, char *msg, size_t mlen);

/*
 * Does tp's definition collect nothing but registers: no memory range and
 * no expression (GDB's lone `end`, sent for a value optimized out, is
 * none)?  True for a tracepoint without actions, `collect $rip`, or a
 * `collect $args` GDB found nothing for.  With always-regs on, such a
 * tracepoint is collected as `collect $regs` is (registers, the stack
 * window, deep collection); one that names what it collects gets the
 * registers beside it and nothing more.
 */
static inline bool tr__tp_regs_only(const struct tp *tp)
{
	size_t i;

	for (i = 0; i < tp->nact; i++) {
		const struct tp_action *a = &tp->act[i];

		if (a->kind == TPA_MEM ||
		    (a->kind == TPA_EXPR && !(a->axlen == 1 && a->ax[0] == BPFC_AXOP_END)))
			return false;
	}
	return true;
}

/* Live memory reads must show the code as it is, not the probes' int3. */
void tr__unpatch(const struct trace *tr, uint64_t addr, void *buf, size_t len);
/* Is [addr, addr+len) inside a QTro range (relocated for a PIE)? */
bool tr__is_ro(const struct trace *tr, uint64_t addr, uint64_t len);
/* Does the target still run the image traced (no exec since tstart)? */
bool tr__same_image(struct trace *tr);
static inline struct tp_tsv *tr__find_tsv(struct trace *tr, uint32_t num)
{
	size_t i;

	for (i = 0; i < tr->ntsvs; i++)
		if (tr->tsvs[i].num == num)
			return &tr->tsvs[i];
	return NULL;
}
/* A variable's current value: from the BPF map once a run has started. */
int64_t tr__tsv_value(struct trace *tr, const struct tp_tsv *v);
/* A builtin variable's ($trace_timestamp, $trace_thread...) value in frame f: false if none. */
static inline bool tr__frame_builtin(struct trace *tr, const struct tf_frame *f, uint32_t num,
				     int64_t *val)
{
	struct tp_tsv *v = tr__find_tsv(tr, num);

	return v && v->builtin && !tf_frame__tsv(f, num, val);
}

#endif
