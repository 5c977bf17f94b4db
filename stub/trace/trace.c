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
 * trace's definitions and when a location runs; trace_prog.c owns what its
 * program collects (and hands out the programs' stop switches), and the
 * files share only stub/trace/trace_int.h.
 *
 * The run itself (start, stop, the drain of the ring, the checks of every
 * tick, qTStatus) is stub/trace/trace_run.c: it reads the definitions and
 * never changes them, and this file calls it, never the reverse.
 *
 * Each location has its own counter slot, and the slot number is what the
 * program writes as the record's "tp": several locations share one GDB
 * tracepoint number, and the slot tells them apart.
 *
 * A location is of a kind (struct tp_kind, stub/trace/trace.h): GDB's,
 * defined here, or one the stub defines itself (`monitor trace` in
 * montrace.c, `monitor trace -return` in retprobe.c).  What differs by
 * kind - what its program adds, a probe of its own to attach first, what
 * outlives QTinit, its own data to free - is an operation of the kind,
 * called through tp->kind: this file and trace_prog.c never name a kind,
 * the kinds call the trace (tr__add, tr__define_loc) and not the reverse,
 * so the objects of stub/trace/ form no circle.  Likewise the audit log
 * watches the run through tr->events, and the overhead guard only judges
 * (guard.c): the run acts on its verdict.
 *
 * Replies are plain values handed to rsp/trace.h's encoders (qTStatus,
 * qTP, the qTfP/qTsP items): the wire text is written only in rsp/.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/reap.h"
#include "rsp/buf.h"
#include "rsp/parse.h"
#include "rsp/trace.h"
#include "stub/program/program.h"
#include "stub/program/sdt.h"
#include "stub/program/target.h"
#include "stub/trace/deep.h"
#include "stub/trace/trace.h"
#include "stub/trace/trace_int.h"

#define TR_MAX_ACTIONS 1024 /* per location: bounds what a client can make us keep */
static const struct {
	uint32_t num;
	const char *name;
} builtin_tsvs[] = {
	{TR_TSV_TIMESTAMP, "trace_timestamp"},
	{TR_TSV_THREAD, "trace_thread"},
	{TR_TSV_LATENCY, "latency_ns"},
	{TR_TSV_PID, "trace_pid"}, /* a multi-process target's only */
};

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
		struct tp_tsv *v;
		char hex[64];

		if (builtin_tsvs[i].num == TR_TSV_PID && !tr_procs__multi(tr))
			continue;
		v = &tr->tsvs[tr->ntsvs++];
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
	tr->always_regs = TR_ALWAYS_REGS_DEFAULT;
	tr->max_hit_rate = TR_MAX_HIT_RATE_DEFAULT;
	tr->max_overhead = TR_MAX_OVERHEAD_DEFAULT;
	tr->hit_cost_ns = 0; /* auto: measured at the first tstart (guard__reset) */
	tr->lat_bias = 0;    /* auto: measured at the first return tracepoint installed */
	tr->trace_timeout = TR_TRACE_TIMEOUT_DEFAULT;
	tr->debuginfod = TR_DEBUGINFOD_DEFAULT;
	tr_procs__init(tr);
	tr->tsvs = calloc(TR_MAX_TPS, sizeof(*tr->tsvs));
	if (!tr->tsvs)
		return -ENOMEM;
	add_builtin_tsvs(tr);
	tr->pgm = program__new(t);
	if (!tr->pgm)
		return -ENOMEM;
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
	tr_procs__fini(tr);
	deep__free(tr->deep);
	program__free(tr->pgm);
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

const struct tp *tr__first(const struct trace *tr, uint32_t num)
{
	size_t i;

	for (i = 0; i < tr->ntps; i++)
		if (tr->tps[i].num == num)
			return &tr->tps[i];
	return NULL;
}

uint32_t tr__next_num(const struct trace *tr)
{
	uint32_t num = 0;
	size_t i;

	for (i = 0; i < tr->ntps; i++)
		if (tr->tps[i].num > num)
			num = tr->tps[i].num;
	return num + 1;
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
		tr_run__drain_all(tr);
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
 * A probe location ("-probe-stap python:function__entry", "-p ...") as the
 * "at" source of an uploaded tracepoint makes GDB 13 fail an internal check
 * (linespec.c, "attempt to decode probe location") and end the session
 * when it reconnects or opens the trace file; the probe's address
 * ("*0x4f20a1") is what it can take back.  1 when hex (the source as sent)
 * names a probe.
 */
static bool src_is_probe(const struct tp_src *src)
{
	return !strcmp(src->type, "at") &&
	       (!strncmp(src->hex, "2d7020", 6) || !strncmp(src->hex, "2d70726f6265", 12));
}

static int enc_src(struct rsp_buf *b, const struct tp *tp, const struct tp_src *src)
{
	char text[24], hex[sizeof(text) * 2 + 1];
	int n, i;

	if (!src_is_probe(src))
		return rsp_enc_tp_src(b, tp->num, tp->addr, src->type, src->start, src->slen,
				      src->hex);
	n = snprintf(text, sizeof(text), "*0x%llx", (unsigned long long)tp->addr);
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)text[i]);
	return rsp_enc_tp_src(b, tp->num, tp->addr, src->type, 0, (uint64_t)n, hex);
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
			rsp_buf__reset(&b);
			err = enc_src(&b, tp, &tp->src[j]);
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

/* GDB's write of a semaphore at one of this trace's sites (stub/program/sdt.h). */
bool sdt__semaphore_write(struct trace *tr, const struct rsp_write_req *w, bool hex)
{
	struct sdt_cache *c;
	const struct tp *tp;
	bool known = false;

	if (!tr || !tr->tgt || w->len != 2)
		return false;
	c = tr->pgm ? tr->pgm->sdt : NULL;
	tr__foreach(tr, tp)
		if (!known)
			known = sdt__semaphore_of(c, tr->tgt, tp->addr, w->addr);
	return known && sdt__semaphore_step(tr->tgt, w, hex);
}
