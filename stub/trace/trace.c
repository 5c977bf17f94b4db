/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/trace.c - tracepoints become BPF uprobes; records become frames.
 *
 * Definitions arrive packet by packet (QTDP header, then action packets,
 * then QTDPsrc) and are kept as GDB sent them, so they can be listed back.
 * Nothing touches the kernel until the run starts: tr__start() creates the
 * run's maps and ring, then has stub/trace/trace_prog.c build one BPF program per
 * tracepoint location (bpf/collect.c) and attach it as a uprobe filtered on
 * the target's pid (bpf/probe.c).  A location added during a run
 * (InstallInTrace) is attached as soon as its last packet arrives;
 * QTEnable/QTDisable attach and detach while running.  This file owns the
 * trace's state and when a location runs; trace_prog.c owns what its
 * program collects, and the two share only stub/trace/trace_int.h.
 *
 * Records leave the kernel through one ring buffer, written without a
 * wakeup (waking the reader per record costs more than collecting); the
 * server calls tr__poll() on every tick to move them into the frame store,
 * adding the builtin trace state variables (trace_timestamp, trace_thread)
 * as V blocks.  Every record is accounted for: stored, or counted as lost
 * because the store was full, or counted by the kernel as dropped because
 * the ring was full, or (rarely) counted as dropped because it was still
 * in the ring when the run stopped and the stop's drain ran out of time.
 *
 * A drain never starves anything.  The programs can write faster than the
 * stub stores (two threads hitting a tracepoint in a tight loop wrote
 * ~110k records/s while ~70k/s were stored), and a drain that runs until
 * the ring is empty then runs until the trace buffer is full: the server's
 * one thread, and with it the overhead guard, the expiry and the client,
 * waited seconds.  So
 * each drain takes at most TR_DRAIN_TICK_NS or TR_DRAIN_TICK_RECORDS
 * (bpfc_ring__drain()); what it leaves stays in the ring for the next one,
 * and tr__backlog() tells the server to drain again without waiting its
 * tick, after serving the client.  Nothing is lost to the bound: when the
 * ring fills meanwhile, the programs' reservations fail and the kernel's
 * counters count the drops, as with any ring too slow to drain.  The guard
 * reads hits from the kernel's counters, so it sees a flood whether or not
 * its frames are drained yet.
 *
 * Each location has its own counter slot, and the slot number is what the
 * program writes as the record's "tp": several locations share one GDB
 * tracepoint number, and the slot tells them apart.
 *
 * Stopping never waits on the kernel (releasing a uprobe waits for RCU
 * grace periods, ~110 ms each).  Detaching a location, for tstop, QTDisable,
 * tdelete, detach or a client leaving, turns its program's stop switch off
 * (one map update: the program returns at once, so nothing after the stop
 * is kept) and hands the uprobe's fds to bpf/reap.h's threads.  Switches
 * are handed out by tr__stop_take(), never to two programs that may run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf/reap.h"
#include "bpf/record.h"
#include "bpf/ring.h"
#include "stub/trace/deep.h"
#include "rsp/buf.h"
#include "rsp/trace.h"
#include "stub/program/target.h"
#include "stub/trace/trace.h"
#include "stub/trace/trace_int.h"

#define TR_MAX_ACTIONS 1024	  /* per location: bounds what a client can make us keep */
#define TR_RING_SIZE   (8u << 20) /* 8 MiB: ~30k frames of registers + 64 bytes between drains */

/*
 * How much of the ring one drain takes (docs/PERFORMANCE.md, "Drain per
 * tick").  10 ms: the server serves the client and runs the guard between
 * two drains, so a packet waits at most about two drains (the loop's and
 * its handler's) however fast the programs write, and 10 ms of storing is
 * ~100x what one turn of the loop costs (poll(2), the guard's clock check),
 * so back-to-back drains lose no throughput.  A 10 ms drain stores ~3,500
 * `collect $regs` frames with the default stack window on this VM (2.5-3 us
 * each, first touch of the store's pages included): about one 8 MiB ring.
 * The record cap is a second bound that does not depend on the clock, far
 * enough above that to leave frames of that size to the clock; it bites on
 * small records.
 */
#define TR_DRAIN_TICK_NS      (10 * 1000000ull)
#define TR_DRAIN_TICK_RECORDS 16384u
/*
 * Stopping drains what is in the ring (at most TR_RING_SIZE bytes, however
 * much is written meanwhile) for at most TR_DRAIN_STOP_NS; what is left
 * then is walked without being stored and counted as dropped (tp->unread).
 * With the programs detached first, a full 8 MiB ring of `collect $regs`
 * frames takes ~10 ms to store here: the bound is for slower machines.
 */
#define TR_DRAIN_STOP_NS (100 * 1000000ull)

/* One drain's budget, and what becomes of the records it leaves. */
struct drain {
	struct bpfc_ring_budget budget;
	bool rest_dropped; /* the run ends: what the budget leaves counts as dropped */
};

/* tr__poll: bounded, so that the guard, the expiry and the client run. */
static const struct drain drain_tick = {
	.budget = {.records = TR_DRAIN_TICK_RECORDS, .ns = TR_DRAIN_TICK_NS},
};
/* tr__stop: what is in the ring, for a while; the rest is dropped. */
static const struct drain drain_stop = {
	.budget = {.bytes = TR_RING_SIZE, .ns = TR_DRAIN_STOP_NS},
	.rest_dropped = true,
};
/* tp_remove: every record written before (a ring's worth at most), stored. */
static const struct drain drain_all = {
	.budget = {.bytes = TR_RING_SIZE},
};

static const struct {
	uint32_t num;
	const char *name;
} builtin_tsvs[] = {
	{TR_TSV_TIMESTAMP, "trace_timestamp"},
	{TR_TSV_THREAD, "trace_thread"},
	{TR_TSV_LATENCY, "latency_ns"},
};

static uint64_t now_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void hex_of(const char *s, char *out, size_t cap)
{
	static const char d[] = "0123456789abcdef";
	size_t i = 0;

	for (; *s && i + 2 < cap; s++) {
		out[i++] = d[(unsigned char)*s >> 4];
		out[i++] = d[*s & 15];
	}
	out[i] = '\0';
}

static void add_builtin_tsvs(struct trace *tr)
{
	size_t i;

	for (i = 0; i < sizeof(builtin_tsvs) / sizeof(builtin_tsvs[0]); i++) {
		struct tp_tsv *v = &tr->tsvs[tr->ntsvs++];
		char hex[64];

		hex_of(builtin_tsvs[i].name, hex, sizeof(hex));
		memset(v, 0, sizeof(*v));
		v->num = builtin_tsvs[i].num;
		v->builtin = true;
		v->name_hex = strdup(hex);
	}
}

int tr__init(struct trace *tr, struct tgt *t)
{
	int err;

	memset(tr, 0, sizeof(*tr));
	tr->tgt = t;
	tr->counters_fd = -1;
	tr->tsv_fd = -1;
	tr->gate_fd = -1;
	tr->stop_fd = -1;
	tr->deep_budget = TR_DEEP_BUDGET_DEFAULT;
	tr->stack_window = TR_STACK_WINDOW_DEFAULT;
	tr->max_hit_rate = TR_MAX_HIT_RATE_DEFAULT;
	tr->max_overhead = TR_MAX_OVERHEAD_DEFAULT;
	tr->hit_cost_ns = 0; /* auto: measured at the first tstart (guard__reset) */
	tr->trace_timeout = TR_TRACE_TIMEOUT_DEFAULT;
	tr->tsvs = calloc(TR_MAX_TPS, sizeof(*tr->tsvs));
	if (!tr->tsvs)
		return -ENOMEM;
	add_builtin_tsvs(tr);
	err = tf_store__init(&tr->store, TF_DEFAULT_SIZE, false);
	return err;
}

/* GDB's own: what it sent is all there is (stub/trace/deep.h adds deep collection). */
const struct tp_kind tp_kind_gdb = {
	.name = "gdb",
	.deep = deep__append,
};

void tr__tp_free(struct tp *tp)
{
	size_t i;

	for (i = 0; i < tp->nact; i++) {
		free(tp->act[i].ax);
		free(tp->act[i].wire);
	}
	for (i = 0; i < tp->nsrc; i++)
		free(tp->src[i].hex);
	free(tp->act);
	free(tp->src);
	free(tp->cond);
	bpfc_prog__free(&tp->prog);
	if (tp->kind && tp->kind->free)
		tp->kind->free(tp);
	memset(tp, 0, sizeof(*tp));
}

static void tsvs_free(struct trace *tr)
{
	size_t i;

	for (i = 0; i < tr->ntsvs; i++)
		free(tr->tsvs[i].name_hex);
	tr->ntsvs = 0;
}

void tr__fini(struct trace *tr)
{
	size_t i;

	tr__stop(tr, TR_STOP_USER, 0, NULL);
	for (i = 0; i < tr->ntps; i++)
		tr__tp_free(&tr->tps[i]);
	free(tr->tps);
	tsvs_free(tr);
	free(tr->tsvs);
	free(tr->ro);
	free(tr->user_hex);
	free(tr->notes_hex);
	free(tr->stop_notes_hex);
	free(tr->auxv);
	if (tr->counters_fd >= 0)
		close(tr->counters_fd);
	if (tr->tsv_fd >= 0)
		close(tr->tsv_fd);
	if (tr->gate_fd >= 0)
		close(tr->gate_fd);
	if (tr->stop_fd >= 0)
		close(tr->stop_fd);
	tf_store__fini(&tr->store);
	deep__free(tr->deep);
	/* The uprobes still being released: closed before the process ends (bpf/reap.h). */
	bpfc_reap__drain();
}

int tr__clear(struct trace *tr)
{
	size_t i, n;

	tr__stop(tr, TR_STOP_USER, 0, NULL);
	/* GDB clears what it defined; return tracepoints (monitor trace -return)
	 * are the stub's and stay, renumbered into the first slots. */
	for (i = 0, n = 0; i < tr->ntps; i++) {
		if (!tr->tps[i].kind->outlives_qtinit) {
			tr__tp_free(&tr->tps[i]);
			continue;
		}
		if (n != i) {
			tr->tps[n] = tr->tps[i];
			memset(&tr->tps[i], 0, sizeof(tr->tps[i]));
		}
		tr->tps[n].slot = (uint32_t)n;
		n++;
	}
	tr->ntps = n;
	tsvs_free(tr);
	add_builtin_tsvs(tr);
	free(tr->ro);
	tr->ro = NULL;
	tr->nro = 0;
	tr->state = TR_NOT_RUN;
	tr->stop_msg[0] = '\0';
	tr->lost = 0;
	/* GDB sends QTBuffer after QTinit; the frames go now. */
	return tf_store__reset(&tr->store, tr->store.size, tr->store.circular);
}

struct tp *tr__find(struct trace *tr, uint32_t num, uint64_t addr)
{
	size_t i;

	for (i = 0; i < tr->ntps; i++)
		if (tr->tps[i].num == num && tr->tps[i].addr == addr)
			return &tr->tps[i];
	return NULL;
}

static const char *const state_names[] = {
	[TR_NOT_RUN] = "not run",
	[TR_RUNNING] = "running",
	[TR_STOP_USER] = "stopped by tstop",
	[TR_STOP_FULL] = "stopped: trace buffer full",
	[TR_STOP_PASS] = "stopped: pass count reached",
	[TR_STOP_ERROR] = "stopped by an error",
	[TR_STOP_DISCONNECTED] = "stopped: client disconnected",
	[TR_STOP_EXPIRED] = "stopped: trace-timeout reached",
};

const char *tr__state_name(enum tr_stop state)
{
	if ((size_t)state >= sizeof(state_names) / sizeof(state_names[0]) || !state_names[state])
		return "in an unknown state";
	return state_names[state];
}

static bool consume(struct trace *tr, const struct drain *d);

/* ---- definitions -------------------------------------------------------- */

/*
 * A definition is complete when GDB has sent its last QTDP packet (no
 * trailing '-').  GDB may announce actions and then send none (at -O2,
 * `collect $args` with no argument in scope: "QTDP:1:ADDR:E:0:0-" alone), so
 * a definition also counts as complete when anything else about the trace
 * arrives: its source text, another tracepoint's header, or QTStart.  Nothing
 * the user defined is left out without a word: while a run is on, settling
 * installs it, and an error names it.
 */
static int settle(struct trace *tr, char *msg, size_t mlen)
{
	size_t i;
	int err;

	for (i = 0; i < tr->ntps; i++) {
		struct tp *tp = &tr->tps[i];

		if (tp->complete)
			continue;
		tp->complete = true;
		if (tr__running(tr)) {
			err = tr_prog__install(tr, tp, msg, mlen);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * GDB numbers its own tracepoints and never learns of a return tracepoint
 * defined after it connected: when GDB defines a number a return
 * tracepoint holds (at another address), the return tracepoint moves to a
 * free number rather than become a location of GDB's.
 */
static void renumber_stub(struct trace *tr, uint32_t num)
{
	uint32_t top = num;
	size_t i;
	bool clash = false;

	for (i = 0; i < tr->ntps; i++) {
		clash |= tr->tps[i].num == num && tr->tps[i].kind->outlives_qtinit;
		if (tr->tps[i].num > top)
			top = tr->tps[i].num;
	}
	for (i = 0; clash && i < tr->ntps; i++)
		if (tr->tps[i].num == num && tr->tps[i].kind->outlives_qtinit)
			tr->tps[i].num = top + 1;
}

static int define(struct trace *tr, const struct rsp_qtdp_hdr *h, bool stub_loc, char *msg,
		  size_t mlen)
{
	struct bpfc_probe probe;
	struct tp *tp, *tps, old = {0};
	uint8_t *cond = NULL;
	int err;

	if (h->num > 0xffff) {
		snprintf(msg, mlen, "tracepoint number %llu is too large",
			 (unsigned long long)h->num);
		return -EINVAL;
	}
	if (h->step) {
		snprintf(msg, mlen,
			 "while-stepping needs single-stepping, which stops the target; bpfstub "
			 "never stops it (remove while-stepping from tracepoint %llu)",
			 (unsigned long long)h->num);
		return -EOPNOTSUPP;
	}
	if (h->has_cond) {
		char why[200];

		cond = malloc(h->cond.len);
		if (!cond)
			return -ENOMEM;
		rsp_trace_hex_decode(&h->cond, cond, h->cond.len);
		err = bpfc_ax__check(cond, h->cond.len, BPFC_AX_COND, why, sizeof(why));
		if (err) {
			snprintf(msg, mlen, "tracepoint %llu condition: %s",
				 (unsigned long long)h->num, why);
			free(cond);
			return err;
		}
	}
	/* The address must be code in a file the target maps: say so now. */
	err = bpfc_probe__resolve(&probe, tr->tgt->pid, h->addr, msg, mlen);
	if (err) {
		free(cond);
		return err;
	}

	err = settle(tr, msg, mlen);
	if (err) {
		free(cond);
		return err;
	}
	tp = tr__find(tr, (uint32_t)h->num, h->addr);
	if (tp) {
		/* Its kind says what stays (a return location GDB sends back stays one). */
		tr_prog__uninstall(tp);
		old = *tp;
	} else {
		if (!stub_loc)
			renumber_stub(tr, (uint32_t)h->num);
		if (tr->ntps == TR_MAX_TPS) {
			snprintf(msg, mlen, "at most %d tracepoint locations", TR_MAX_TPS);
			free(cond);
			return -E2BIG;
		}
		tps = realloc(tr->tps, (tr->ntps + 1) * sizeof(*tps));
		if (!tps) {
			free(cond);
			return -ENOMEM;
		}
		tr->tps = tps;
		tp = &tr->tps[tr->ntps];
		tp->slot = (uint32_t)tr->ntps;
		tr->ntps++;
	}
	{
		uint32_t slot = tp->slot;

		memset(tp, 0, sizeof(*tp));
		tp->slot = slot;
		tp->prog.fd = -1; /* no program yet: freeing it closes nothing */
	}
	tp->num = (uint32_t)h->num;
	tp->addr = h->addr;
	tp->kind = &tp_kind_gdb;
	if (old.kind) {
		if (old.kind->keep)
			old.kind->keep(&old, tp);
		tr__tp_free(&old);
	}
	tp->enabled = h->enabled;
	tp->pass = h->pass;
	tp->cond = cond;
	tp->condlen = cond ? h->cond.len : 0;
	tp->complete = !h->more;
	if (tp->complete && tr__running(tr))
		return tr_prog__install(tr, tp, msg, mlen);
	return 0;
}

int tr__add(struct trace *tr, struct tp *in, char *msg, size_t mlen)
{
	struct tp *tps, *tp;
	int err;

	if (!in->kind)
		in->kind = &tp_kind_gdb;
	err = settle(tr, msg, mlen);
	if (!err && tr->ntps == TR_MAX_TPS) {
		snprintf(msg, mlen, "at most %d tracepoint locations", TR_MAX_TPS);
		err = -E2BIG;
	}
	tps = err ? NULL : realloc(tr->tps, (tr->ntps + 1) * sizeof(*tps));
	if (!tps) {
		tr__tp_free(in);
		return err ? err : -ENOMEM;
	}
	tr->tps = tps;
	tp = &tr->tps[tr->ntps];
	*tp = *in;
	memset(in, 0, sizeof(*in));
	in->prog.fd = -1;
	tp->slot = (uint32_t)tr->ntps;
	tp->prog.fd = -1;
	tp->installed = false;
	tp->complete = true;
	tr->ntps++;
	if (!tr__running(tr))
		return 0;
	bpfc_counters__reset(tr->counters_fd, tp->slot);
	bpfc_gate__reset(tr->gate_fd, tp->slot);
	err = tr_prog__install(tr, tp, msg, mlen);
	if (err) {
		tr_prog__uninstall(tp);
		tr__tp_free(tp);
		tr->ntps--;
	}
	return err;
}

/*
 * Remove tps[i].  The records in the ring name tracepoints by index (slot),
 * so every tracepoint after it is detached, the ring drained (all of it that
 * was written before: the others may go on writing), the array closed up
 * (each one's hit counts move to its new slot), and those that were running
 * attached again there.
 */
static int tp_remove(struct trace *tr, size_t i, char *msg, size_t mlen)
{
	bool *was = calloc(tr->ntps, sizeof(*was));
	size_t j;
	int err = 0;

	if (!was)
		return -ENOMEM;
	for (j = i; j < tr->ntps; j++) {
		was[j] = tr->tps[j].installed;
		tr_prog__uninstall(&tr->tps[j]);
	}
	if (tr->ring && !tr->consuming)
		consume(tr, &drain_all);
	tr__tp_free(&tr->tps[i]);
	memmove(&tr->tps[i], &tr->tps[i + 1], (tr->ntps - i - 1) * sizeof(*tr->tps));
	memmove(&was[i], &was[i + 1], (tr->ntps - i - 1) * sizeof(*was));
	tr->ntps--;
	if (tr->counters_fd >= 0)
		bpfc_counters__reset(tr->counters_fd, (uint32_t)i);
	for (j = i; j < tr->ntps; j++) {
		struct tp *tp = &tr->tps[j];

		/* Its hits so far move with it (the gate of a pass count starts again). */
		if (tr->counters_fd >= 0)
			bpfc_counters__move(tr->counters_fd, tp->slot, (uint32_t)j);
		tp->slot = (uint32_t)j;
		if (!was[j] || !tr__running(tr))
			continue;
		bpfc_gate__reset(tr->gate_fd, tp->slot);
		if (!err)
			err = tr_prog__install(tr, tp, msg, mlen);
	}
	free(was);
	return err;
}

int tr__delete(struct trace *tr, uint32_t num, char *msg, size_t mlen)
{
	size_t i = tr->ntps;
	int err = -ENOENT;

	while (i-- > 0) {
		if (tr->tps[i].num != num)
			continue;
		err = tp_remove(tr, i, msg, mlen);
		if (err)
			return err;
	}
	if (err == -ENOENT)
		snprintf(msg, mlen, "no tracepoint %u", num);
	return err;
}

int tr__define(struct trace *tr, const struct rsp_qtdp_hdr *h, char *msg, size_t mlen)
{
	return define(tr, h, false, msg, mlen);
}

int tr__room(struct trace *tr, size_t n, char *msg, size_t mlen)
{
	if (tr->ntps + n <= TR_MAX_TPS)
		return 0;
	snprintf(msg, mlen, "at most %d tracepoint locations (%zu defined, %zu more asked)",
		 TR_MAX_TPS, tr->ntps, n);
	return -E2BIG;
}

int tr__define_loc(struct trace *tr, uint32_t num, uint64_t addr, const struct tp_kind *kind,
		   void *data, const uint8_t *cond, size_t condlen, char *msg, size_t mlen)
{
	struct rsp_qtdp_hdr h = {.num = num, .addr = addr, .enabled = true, .more = true};
	struct tp *tp;
	int err;

	err = define(tr, &h, true, msg, mlen);
	if (err)
		return err;
	tp = tr__find(tr, num, addr);
	if (!tp)
		return -ENOENT;
	tp->kind = kind;
	if (kind->take)
		kind->take(tp, data);
	if (condlen) {
		tp->cond = malloc(condlen);
		if (!tp->cond)
			return -ENOMEM;
		memcpy(tp->cond, cond, condlen);
		tp->condlen = condlen;
	}
	tp->complete = true;
	return tr__running(tr) ? tr_prog__install(tr, tp, msg, mlen) : 0;
}

int tr__define_actions(struct trace *tr, const struct rsp_qtdp_actions *a, const char *wire,
		       size_t wlen, char *msg, size_t mlen)
{
	struct tp *tp = tr__find(tr, (uint32_t)a->num, a->addr);
	struct tp_action *acts;
	size_t i;

	if (!tp) {
		snprintf(msg, mlen, "actions for an undefined tracepoint %llu at 0x%llx",
			 (unsigned long long)a->num, (unsigned long long)a->addr);
		return -ENOENT;
	}
	for (i = 0; i < a->n; i++) {
		const struct rsp_tp_action *x = &a->a[i];

		if (x->stepping) {
			snprintf(msg, mlen,
				 "while-stepping needs single-stepping, which stops the target; "
				 "bpfstub never stops it (tracepoint %u)",
				 tp->num);
			return -EOPNOTSUPP;
		}
		if (x->kind == RSP_TPA_MEM && x->basereg >= 0 && x->basereg > 16) {
			snprintf(msg, mlen,
				 "tracepoint %u: memory relative to register %d cannot be "
				 "collected (BPF sees general registers 0-16 only)",
				 tp->num, x->basereg);
			return -EOPNOTSUPP;
		}
		if (x->kind == RSP_TPA_EXPR) {
			uint8_t code[RSP_AX_MAX];
			char why[200];
			int err;

			rsp_trace_hex_decode(&x->expr, code, sizeof(code));
			err = bpfc_ax__check(code, x->expr.len, 0, why, sizeof(why));
			if (err) {
				snprintf(msg, mlen, "tracepoint %u: %s", tp->num, why);
				return err;
			}
		}
	}
	if (tp->nact + a->n > TR_MAX_ACTIONS) {
		snprintf(msg, mlen, "tracepoint %u: more than %d actions", tp->num, TR_MAX_ACTIONS);
		return -E2BIG;
	}
	acts = realloc(tp->act, (tp->nact + a->n) * sizeof(*acts));
	if (!acts)
		return -ENOMEM;
	tp->act = acts;
	for (i = 0; i < a->n; i++) {
		const struct rsp_tp_action *x = &a->a[i];
		struct tp_action *d = &tp->act[tp->nact];

		memset(d, 0, sizeof(*d));
		d->kind = x->kind == RSP_TPA_REGS  ? TPA_REGS
			  : x->kind == RSP_TPA_MEM ? TPA_MEM
						   : TPA_EXPR;
		d->regmask[0] = x->regmask[0];
		d->regmask[1] = x->regmask[1];
		d->basereg = x->basereg;
		d->offset = x->offset;
		d->len = x->len;
		if (x->kind == RSP_TPA_EXPR) {
			d->ax = malloc(x->expr.len);
			if (!d->ax)
				return -ENOMEM;
			rsp_trace_hex_decode(&x->expr, d->ax, x->expr.len);
			d->axlen = x->expr.len;
		}
		if (i == 0)
			d->wire = strndup(wire, wlen);
		tp->nact++;
	}
	tp->complete = !a->more;
	if (tp->complete && tr__running(tr))
		return tr_prog__install(tr, tp, msg, mlen);
	return 0;
}

int tr__define_src(struct trace *tr, const struct rsp_qtdpsrc *s, char *msg, size_t mlen)
{
	struct tp *tp = tr__find(tr, (uint32_t)s->num, s->addr);
	struct tp_src *src;
	int err;

	if (!tp) {
		snprintf(msg, mlen, "source for an undefined tracepoint %llu",
			 (unsigned long long)s->num);
		return -ENOENT;
	}
	/* GDB sends the source after the last action packet. */
	err = settle(tr, msg, mlen);
	if (err)
		return err;
	if (tp->nsrc == TR_MAX_ACTIONS) {
		snprintf(msg, mlen, "tracepoint %u: more than %d source lines", tp->num,
			 TR_MAX_ACTIONS);
		return -E2BIG;
	}
	src = realloc(tp->src, (tp->nsrc + 1) * sizeof(*src));
	if (!src)
		return -ENOMEM;
	tp->src = src;
	src = &tp->src[tp->nsrc];
	memset(src, 0, sizeof(*src));
	snprintf(src->type, sizeof(src->type), "%s", s->type);
	src->start = s->start;
	src->slen = s->slen;
	src->hex = strndup(s->text.hex, 2 * s->text.len);
	if (!src->hex)
		return -ENOMEM;
	tp->nsrc++;
	return 0;
}

int tr__define_tsv(struct trace *tr, const struct rsp_qtdv *v, char *msg, size_t mlen)
{
	struct tp_tsv *t;

	if (v->num == 0 || v->num > UINT32_MAX) {
		snprintf(msg, mlen, "bad trace state variable number");
		return -EINVAL;
	}
	t = tr__find_tsv(tr, (uint32_t)v->num);
	if (!t) {
		if (tr->ntsvs == TR_MAX_TPS) {
			snprintf(msg, mlen, "at most %d trace state variables", TR_MAX_TPS);
			return -E2BIG;
		}
		t = &tr->tsvs[tr->ntsvs++];
		memset(t, 0, sizeof(*t));
	}
	free(t->name_hex);
	t->num = (uint32_t)v->num;
	t->initial = t->value = v->value;
	t->builtin = v->builtin;
	t->name_hex = strndup(v->name.hex, 2 * v->name.len);
	return t->name_hex ? 0 : -ENOMEM;
}

int tr__set_ro(struct trace *tr, const struct rsp_qtro *ro)
{
	size_t i;

	free(tr->ro);
	tr->ro = NULL;
	tr->nro = 0;
	if (!ro->n)
		return 0;
	tr->ro = calloc(ro->n, sizeof(*tr->ro));
	if (!tr->ro)
		return -ENOMEM;
	/*
	 * GDB declares the executable's read-only sections with the file's
	 * addresses: for a PIE, below its load bias, where nothing of it is
	 * mapped.  Those are moved to where the file is loaded.
	 */
	for (i = 0; i < ro->n; i++) {
		uint64_t bias = tr->tgt->load_bias;

		if (!bias || ro->r[i].start >= bias || ro->r[i].end > UINT64_MAX - bias)
			bias = 0;
		tr->ro[i].start = ro->r[i].start + bias;
		tr->ro[i].end = ro->r[i].end + bias;
	}
	tr->nro = ro->n;
	return 0;
}

bool tr__is_ro(const struct trace *tr, uint64_t addr, uint64_t len)
{
	size_t i;

	for (i = 0; i < tr->nro; i++)
		if (addr >= tr->ro[i].start && addr + len <= tr->ro[i].end && addr + len >= addr)
			return true;
	return false;
}

int tr__enable(struct trace *tr, uint32_t num, uint64_t addr, bool on, char *msg, size_t mlen)
{
	struct tp *tp = tr__find(tr, num, addr);

	if (!tp) {
		snprintf(msg, mlen, "no tracepoint %u at 0x%llx", num, (unsigned long long)addr);
		return -ENOENT;
	}
	tp->enabled = on;
	if (!tr__running(tr))
		return 0;
	if (!on) {
		tr_prog__uninstall(tp);
		return 0;
	}
	return tr_prog__install(tr, tp, msg, mlen);
}

/* ---- the run ------------------------------------------------------------ */

struct rec_ctx {
	struct trace *tr;
	uint8_t *dst;
	size_t need;
};

static int count_block(void *ctx, char type, const void *blk, size_t len)
{
	((struct rec_ctx *)ctx)->need += 1 + len;
	return 0;
}

static int copy_block(void *ctx, char type, const void *blk, size_t len)
{
	struct rec_ctx *c = ctx;

	*c->dst++ = (uint8_t)type;
	memcpy(c->dst, blk, len);
	c->dst += len;
	return 0;
}

static uint8_t *put_vblock(uint8_t *p, uint32_t num, int64_t v)
{
	uint64_t u = (uint64_t)v;
	int i;

	*p++ = 'V';
	for (i = 0; i < 4; i++)
		*p++ = (uint8_t)(num >> (8 * i));
	for (i = 0; i < 8; i++)
		*p++ = (uint8_t)(u >> (8 * i));
	return p;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct trace *tr = ctx;
	const struct bpfc_rec *rec = data;
	struct rec_ctx c = {.tr = tr};
	struct tp *tp;
	size_t builtins, usage;
	uint8_t *p;
	int err;

	if (len < sizeof(*rec) || rec->tp >= tr->ntps)
		return 0;
	tp = &tr->tps[rec->tp];
	/* A hit after the run stopped (pass count, full) is not a hit of the run. */
	if (tr->state != TR_RUNNING) {
		tp->late++;
		return 0;
	}
	/* The run is stopping and its drain ran out of time (TR_DRAIN_STOP_NS). */
	if (tr->discarding) {
		tp->unread++;
		return 0;
	}
	if (bpfc_rec__foreach_block(data, len, count_block, &c, NULL) < 0)
		return 0;
	/* Usage (qTP) counts what the actions collected, as gdbserver: not
	 * the frame header, nor the builtin variables added to every frame. */
	usage = c.need;
	builtins = tr_int__is_builtin(tr, TR_TSV_TIMESTAMP) + tr_int__is_builtin(tr, TR_TSV_THREAD);
	c.need += builtins * TF_VBLK_SIZE;
	p = tf_store__reserve(&tr->store, (uint16_t)tp->num, c.need, &err);
	if (!p) {
		tr->lost++;
		if (err == -ENOSPC)
			tr__stop(tr, TR_STOP_FULL, 0, NULL);
		return 0;
	}
	c.dst = p;
	bpfc_rec__foreach_block(data, len, copy_block, &c, NULL);
	/* ktime is CLOCK_MONOTONIC: shift it to wall-clock microseconds. */
	if (tr_int__is_builtin(tr, TR_TSV_TIMESTAMP))
		c.dst = put_vblock(c.dst, TR_TSV_TIMESTAMP,
				   (int64_t)(rec->ktime_ns / 1000 + tr->mono_to_wall_us));
	if (tr_int__is_builtin(tr, TR_TSV_THREAD))
		c.dst = put_vblock(c.dst, TR_TSV_THREAD, rec->tid);
	tf_store__commit(&tr->store);
	tp->frames++;
	tp->bytes += usage;
	if (tp->pass && tp->frames >= tp->pass)
		tr__stop(tr, TR_STOP_PASS, tp->num, NULL);
	return 0;
}

/*
 * Drain the ring within d's budget; on_record may stop the run meanwhile
 * (pass count, full).  True if records may be left in the ring.
 *
 * Records left once the run has ended (stopped here or in on_record) are
 * walked without being stored, so that every one is accounted for before
 * the ring goes: as late hits if on_record stopped the run, as dropped if
 * the stop's drain ran out of time.  The programs are detached (or no
 * longer collect) by then, so the ring holds at most its size, and walking
 * it costs tens of nanoseconds a record.
 */
static bool consume(struct trace *tr, const struct drain *d)
{
	static const struct bpfc_ring_budget rest = {.bytes = TR_RING_SIZE};
	bool more = false;

	tr->consuming = true;
	bpfc_ring__drain(tr->ring, &d->budget, &more);
	if (more && (d->rest_dropped || tr->state != TR_RUNNING)) {
		tr->discarding = true;
		bpfc_ring__drain(tr->ring, &rest, &more);
		tr->discarding = false;
	}
	tr->consuming = false;
	tr->backlog = more;
	return more;
}

static void release_kernel(struct trace *tr)
{
	size_t i;

	for (i = 0; i < tr->ntps; i++)
		tr_prog__uninstall(&tr->tps[i]);
	if (tr->ring) {
		bpfc_ring__free(tr->ring);
		tr->ring = NULL;
	}
}

int tr__start(struct trace *tr, char *msg, size_t mlen)
{
	size_t i, size = tr->buf_size ? tr->buf_size : TF_DEFAULT_SIZE;
	int err;

	if (tr__running(tr)) {
		snprintf(msg, mlen, "a trace is already running; tstop first");
		return -EBUSY;
	}
	if (!tgt__alive(tr->tgt)) {
		snprintf(msg, mlen, "pid %d has exited", tr->tgt->pid);
		return -ESRCH;
	}
	err = tf_store__reset(&tr->store, size, tr->circular);
	if (err) {
		snprintf(msg, mlen, "cannot allocate a trace buffer of %zu bytes", size);
		return err;
	}
	if (tr->counters_fd < 0) {
		tr->counters_fd = bpfc_counters__create(TR_MAX_TPS);
		if (tr->counters_fd < 0) {
			err = tr->counters_fd;
			snprintf(msg, mlen, "cannot create BPF maps: %s%s", strerror(-err),
				 err == -EPERM ? " (bpfstub needs CAP_BPF and CAP_PERFMON, or root)"
					       : "");
			return err;
		}
	}
	if (tr->gate_fd < 0) {
		tr->gate_fd = bpfc_gate__create(TR_MAX_TPS);
		if (tr->gate_fd < 0) {
			err = tr->gate_fd;
			snprintf(msg, mlen, "cannot create BPF maps: %s", strerror(-err));
			return err;
		}
	}
	if (tr->tsv_fd < 0) {
		tr->tsv_fd = bpfc_tsv__create(TR_MAX_TPS);
		if (tr->tsv_fd < 0) {
			err = tr->tsv_fd;
			snprintf(msg, mlen, "cannot create BPF maps: %s", strerror(-err));
			return err;
		}
	}
	err = bpfc_ring__new(&tr->ring, TR_RING_SIZE, on_record, tr);
	if (err) {
		snprintf(msg, mlen, "cannot create the BPF ring buffer: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < tr->ntps; i++) {
		struct tp *tp = &tr->tps[i];

		tp->frames = tp->bytes = tp->late = tp->unread = 0;
		bpfc_counters__reset(tr->counters_fd, tp->slot);
		bpfc_gate__reset(tr->gate_fd, tp->slot);
	}
	for (i = 0; i < tr->ntsvs; i++) {
		tr->tsvs[i].value = tr->tsvs[i].initial;
		bpfc_tsv__set(tr->tsv_fd, (uint32_t)i, tr->tsvs[i].initial);
	}
	tr->lost = 0;
	tr->stop_msg[0] = '\0';
	tr->stop_tp = 0;
	/* Wall clock minus the monotonic clock: for frame timestamps. */
	tr->start_us = now_us(CLOCK_REALTIME);
	tr->start_mono_us = now_us(CLOCK_MONOTONIC);
	tr->mono_to_wall_us = tr->start_us - tr->start_mono_us;
	tr->stop_us = 0;
	guard__reset(tr);
	tr->state = TR_RUNNING;
	/* Every program is loaded (the verifier takes its time) before any is
	 * attached, so that all tracepoints start collecting together.  They
	 * are attached in descending number: the kernel runs the uprobes of one
	 * address newest first, so the frames of one hit come out in ascending
	 * tracepoint number, as gdbserver records them. */
	err = 0;
	for (i = 0; i < tr->ntps && !err; i++) {
		struct tp *tp = &tr->tps[i];

		tp->complete = true;
		if (tp->enabled)
			err = tr_prog__load(tr, tp, msg, mlen);
	}
	for (i = tr->ntps; i-- > 0 && !err;) {
		struct tp *tp = &tr->tps[i];

		if (tp->enabled)
			err = tr_prog__attach(tr, tp, msg, mlen);
	}
	if (err) {
		release_kernel(tr);
		tr->state = TR_NOT_RUN;
		return err;
	}
	free(tr->auxv);
	tr->auxv = NULL;
	tgt__read_proc(tr->tgt, "auxv", &tr->auxv, &tr->auxv_len);
	tr->ticks = 0;
	if (tr->events && tr->events->started)
		tr->events->started(tr);
	return 0;
}

int tr__stop(struct trace *tr, enum tr_stop why, uint32_t tp, const char *msg)
{
	if (tr->state != TR_RUNNING)
		return 0;
	/*
	 * Stop every program first (its stop switch: one map update each),
	 * then keep every frame already collected; the uprobes are released
	 * in the background (bpf/reap.h), so this answers at once however many
	 * there are.
	 */
	{
		size_t i;

		for (i = 0; i < tr->ntps; i++)
			tr_prog__uninstall(&tr->tps[i]);
	}
	if (!tr->consuming && tr->ring)
		consume(tr, &drain_stop);
	/* A stop from inside on_record (pass count, full) lands here too. */
	if (tr->state == TR_RUNNING) {
		tr->state = why;
		tr->stop_tp = tp;
		snprintf(tr->stop_msg, sizeof(tr->stop_msg), "%s", msg ? msg : "");
		tr->stop_us = now_us(CLOCK_REALTIME);
		if (tr->events && tr->events->stopped)
			tr->events->stopped(tr);
	}
	/* Inside the ring's own callback the ring must live on: tr__poll frees it. */
	if (!tr->consuming)
		release_kernel(tr);
	return 0;
}

/* An exec replaces auxv (new entry, new random stack addresses). */
static bool exec_happened(struct trace *tr)
{
	char *now = NULL;
	size_t n = 0;
	bool changed;

	if (!tr->auxv || tgt__read_proc(tr->tgt, "auxv", &now, &n))
		return false;
	changed = n != tr->auxv_len || memcmp(now, tr->auxv, n);
	free(now);
	return changed;
}

bool tr__same_image(struct trace *tr)
{
	return !exec_happened(tr);
}

bool tr__backlog(const struct trace *tr)
{
	return tr->state == TR_RUNNING && tr->ring && tr->backlog;
}

/*
 * What the run costs the target: hit rates, CPU share, expiry
 * (stub/trace/guard.h).  The guard decides; what it marked is detached here.
 */
static void guard(struct trace *tr)
{
	char msg[160], expired[160];
	bool over = guard__tick(tr, expired, sizeof(expired));
	size_t i;

	for (i = 0; i < tr->ntps; i++) {
		struct tp *tp = &tr->tps[i];

		if (!tp->guard.over)
			continue;
		tp->guard.over = false;
		tr__enable(tr, tp->num, tp->addr, false, msg, sizeof(msg));
		tp->guard.tripped = true;
		if (tr->events && tr->events->detached)
			tr->events->detached(tr, tp, tp->guard.why);
		fprintf(stderr, "bpfstub: %s\n", tp->guard.why);
	}
	if (over) {
		fprintf(stderr, "%s\n", expired);
		tr__stop(tr, TR_STOP_EXPIRED, 0, expired);
	}
}

int tr__poll(struct trace *tr)
{
	if (tr->state != TR_RUNNING)
		return 0;
	if (tr->ring)
		consume(tr, &drain_tick);
	if (tr->state != TR_RUNNING) {
		release_kernel(tr);
		return 0;
	}
	if (++tr->ticks % 4 == 0) {
		char msg[128];

		if (!tgt__alive(tr->tgt)) {
			snprintf(msg, sizeof(msg), "pid %d exited; uprobes detached", tr->tgt->pid);
			tr__stop(tr, TR_STOP_ERROR, 0, msg);
			release_kernel(tr);
		} else if (exec_happened(tr)) {
			snprintf(msg, sizeof(msg), "pid %d exec()d; uprobes detached",
				 tr->tgt->pid);
			tr__stop(tr, TR_STOP_ERROR, 0, msg);
			release_kernel(tr);
		}
	}
	guard(tr);
	return 0;
}

/* ---- replies ------------------------------------------------------------ */

/* The run's state as qTStatus names it (rsp/trace.h). */
static const enum rsp_tstatus_state status_of[] = {
	[TR_NOT_RUN] = RSP_TS_NOT_RUN,
	[TR_RUNNING] = RSP_TS_RUNNING,
	[TR_STOP_USER] = RSP_TS_STOP,
	[TR_STOP_FULL] = RSP_TS_FULL,
	[TR_STOP_PASS] = RSP_TS_PASS,
	[TR_STOP_ERROR] = RSP_TS_ERROR,
	[TR_STOP_DISCONNECTED] = RSP_TS_DISCONNECTED,
	[TR_STOP_EXPIRED] = RSP_TS_STOP_MSG,
};

int tr__status(struct trace *tr, struct rsp_buf *r)
{
	struct rsp_tstatus st = {0};
	char more[4096], note[2048], guard[2046];
	uint64_t dropped = 0;
	bool any;
	size_t i;

	tr__poll(tr);
	st.running = tr__running(tr);
	st.state = status_of[tr->state];
	st.stop_notes_hex = tr->stop_notes_hex;
	st.stop_msg = tr->stop_msg;
	st.stop_tp = tr->stop_tp;
	st.frames = tf_store__count(&tr->store);
	st.created = tr->store.created;
	st.free = tf_store__free(&tr->store);
	st.size = tr->store.size;
	st.circular = tr->circular;
	st.disconn = tr->disconnected_ok;
	st.start_us = tr->state == TR_NOT_RUN ? 0 : tr->start_us;
	st.stop_us = tr->stop_us;
	st.user_hex = tr->user_hex;
	st.notes_hex = tr->notes_hex;
	/* GDB has no field for lost frames: say it in the notes it prints. */
	for (i = 0; i < tr->ntps; i++) {
		struct bpfc_counts c;

		tr__counts(tr, &tr->tps[i], &c);
		dropped += c.drops;
	}
	any = tr->notes_hex && tr->notes_hex[0];
	note[0] = '\0';
	if (dropped || tr->lost) {
		snprintf(note, sizeof(note),
			 "%sbpfstub: %llu frames dropped (ring buffer full), "
			 "%llu lost (trace buffer full)",
			 any ? "; " : "", (unsigned long long)dropped,
			 (unsigned long long)tr->lost);
		any = true;
	}
	/* Tracepoints the overhead guard detached (stub/trace/guard.h). */
	guard__notes(tr, guard, sizeof(guard));
	snprintf(more, sizeof(more), "%s%s%s", note, guard[0] && any ? "; " : "", guard);
	st.more_notes = more;
	return rsp_enc_tstatus(r, &st);
}

uint64_t tr__hits(struct trace *tr, const struct tp *tp)
{
	struct bpfc_counts c;

	tr__counts(tr, tp, &c);
	return c.hits > tp->late ? c.hits - tp->late : 0;
}

int tr__tp_status(struct trace *tr, uint32_t num, uint64_t addr, struct rsp_buf *r)
{
	struct tp *tp = tr__find(tr, num, addr);

	if (!tp)
		return -ENOENT;
	return rsp_enc_tp_status(r, tr__hits(tr, tp), tp->bytes);
}

void tr__unpatch(const struct trace *tr, uint64_t addr, void *buf, size_t len)
{
	size_t i;

	for (i = 0; i < tr->ntps; i++) {
		const struct tp *tp = &tr->tps[i];

		if (tp->installed)
			bpfc_probe__patch(&tp->probe, addr, buf, len);
		/* The kind's own probes (patching twice is harmless). */
		if (tp->kind->unpatch)
			tp->kind->unpatch(tp, addr, buf, len);
	}
	/* Uprobes being released: their int3 may still be there. */
	bpfc_reap__patch(tr->tgt->pid, addr, buf, len);
}

/* ---- upload (qTfP/qTsP and trace files) --------------------------------- */

static int by_num_desc(const void *a, const void *b)
{
	const struct tp *x = *(const struct tp *const *)a, *y = *(const struct tp *const *)b;

	if (x->num != y->num)
		return x->num < y->num ? 1 : -1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * GDB 13 creates uploaded tracepoints in reverse order and then renumbers
 * them (client-behaviour.md, "reconnecting"): list them in descending
 * number so its numbers end up equal to ours.
 */
int tr__upload(struct trace *tr, int (*cb)(void *ctx, const char *item), void *ctx)
{
	struct tp **order;
	struct rsp_buf b;
	size_t i, j;
	int err = 0;

	order = calloc(tr->ntps ? tr->ntps : 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (i = 0; i < tr->ntps; i++)
		order[i] = &tr->tps[i];
	qsort(order, tr->ntps, sizeof(*order), by_num_desc);
	rsp_buf__init(&b);
	for (i = 0; i < tr->ntps && !err; i++) {
		const struct tp *tp = order[i];

		const struct rsp_tp_def def = {
			.num = tp->num,
			.addr = tp->addr,
			.enabled = tp->enabled,
			.step = tp->step,
			.pass = tp->pass,
			.cond = tp->cond,
			.condlen = tp->condlen,
		};

		rsp_buf__reset(&b);
		err = rsp_enc_tp_def(&b, &def);
		err = err ? err : cb(ctx, b.data);
		for (j = 0; j < tp->nact && !err; j++) {
			if (!tp->act[j].wire)
				continue;
			rsp_buf__reset(&b);
			err = rsp_enc_tp_actions_item(&b, tp->num, tp->addr, tp->act[j].wire);
			err = err ? err : cb(ctx, b.data);
		}
		for (j = 0; j < tp->nsrc && !err; j++) {
			const struct tp_src *src = &tp->src[j];

			rsp_buf__reset(&b);
			err = rsp_enc_tp_src(&b, tp->num, tp->addr, src->type, src->start,
					     src->slen, src->hex);
			err = err ? err : cb(ctx, b.data);
		}
	}
	rsp_buf__free(&b);
	free(order);
	return err;
}

int64_t tr__tsv_value(struct trace *tr, const struct tp_tsv *v)
{
	__s64 val;

	/* Once a run started, the BPF map holds the truth. */
	if (tr->state != TR_NOT_RUN && tr->tsv_fd >= 0 &&
	    !bpfc_tsv__get(tr->tsv_fd, (uint32_t)(v - tr->tsvs), &val))
		return (int64_t)val;
	return v->value;
}
