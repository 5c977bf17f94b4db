/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/trace_run.c - the run: start, stop, the drain of the ring into
 * the frame store, the checks of every tick, and qTStatus.
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
 * Stopping never waits on the kernel (releasing a uprobe waits for RCU
 * grace periods, ~110 ms each).  Detaching a location, for tstop, QTDisable,
 * tdelete, detach or a client leaving, turns its program's stop switch off
 * (one map update: the program returns at once, so nothing after the stop
 * is kept) and hands the uprobe's fds to bpf/reap.h's threads.
 *
 * It is its own file, apart from stub/trace/trace.c's definitions, because
 * the run reads the definitions and never changes them (the guard's
 * detaching aside, which is a location's program going, as for QTDisable):
 * trace.c calls the run (tr__stop, the drain of tp_remove), never the other
 * way round.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpf/clock.h"
#include "bpf/record.h"
#include "bpf/ring.h"
#include "rsp/buf.h"
#include "rsp/trace.h"
#include "stub/program/target.h"
#include "stub/trace/trace.h"
#include "stub/trace/trace_int.h"

#define TR_RING_SIZE (8u << 20) /* 8 MiB: ~30k frames of registers + 64 bytes between drains */

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

/* ---- the run ------------------------------------------------------------ */

static int on_record(void *ctx, void *data, size_t len)
{
	struct trace *tr = ctx;
	const struct bpfc_rec *rec = data;
	struct tf_tsv tsvs[3];
	struct tf_rec_opts o = {.tsvs = tsvs};
	struct tp *tp;
	size_t usage;
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
	/*
	 * The builtin variables, as V blocks after what was collected.  ktime
	 * is CLOCK_MONOTONIC: shift it to wall-clock microseconds.
	 */
	if (tr_int__is_builtin(tr, TR_TSV_TIMESTAMP))
		tsvs[o.ntsvs++] = (struct tf_tsv){
			.num = TR_TSV_TIMESTAMP,
			.value = (int64_t)(rec->ktime_ns / 1000 + tr->mono_to_wall_us),
		};
	if (tr_int__is_builtin(tr, TR_TSV_THREAD))
		tsvs[o.ntsvs++] = (struct tf_tsv){.num = TR_TSV_THREAD, .value = rec->tid};
	/* Several processes: which one (stub/trace/trace_procs.h). */
	if (tr_int__is_builtin(tr, TR_TSV_PID))
		tsvs[o.ntsvs++] = (struct tf_tsv){.num = TR_TSV_PID, .value = rec->pid};
	/* Several processes: the pc in the leader's layout, where GDB defined tp. */
	o.set_rip = tr_procs__multi(tr);
	o.rip = tp->addr;
	/* Usage (qTP) counts what the actions collected, as gdbserver: not
	 * the frame header, nor the builtin variables added to every frame. */
	err = tf_store__add_record(&tr->store, (uint16_t)tp->num, data, len, &o, &usage);
	if (err == -EBADMSG) /* malformed: neither a frame nor a lost one */
		return 0;
	if (err) {
		tr->lost++;
		if (err == -ENOSPC)
			tr__stop(tr, TR_STOP_FULL, 0, NULL);
		return 0;
	}
	if (tr_procs__multi(tr))
		tr_procs__count(tr, rec->pid);
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
	tr_procs__stop(tr);
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
		if (!tr_procs__multi(tr))
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
	tr->start_us = bpfc_clock__us(CLOCK_REALTIME);
	tr->start_mono_us = bpfc_clock__us(CLOCK_MONOTONIC);
	tr->mono_to_wall_us = tr->start_us - tr->start_mono_us;
	tr->stop_us = 0;
	guard__reset(tr);
	/* The latency bias: set again as return locations are installed (retprobe.c). */
	tr->lat_bias_ns = 0;
	tr->lat_bias_note[0] = '\0';
	/* Several processes: which collect (a process map and its tracker, or none). */
	err = tr_procs__start(tr, msg, mlen);
	if (err) {
		release_kernel(tr);
		return err;
	}
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
		tr->stop_us = bpfc_clock__us(CLOCK_REALTIME);
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
	char expired[160];
	bool over = guard__tick(tr, expired, sizeof(expired));
	size_t i;

	for (i = 0; i < tr->ntps; i++) {
		struct tp *tp = &tr->tps[i];

		if (!tp->guard.over)
			continue;
		tp->guard.over = false;
		tp->enabled = false; /* as tr__enable(off) */
		tr_prog__uninstall(tp);
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
	if (++tr->ticks % 4 == 0 && tr_procs__multi(tr)) {
		/* Several processes: they come and go; the run goes on until tstop. */
		tr_procs__tick(tr);
	} else if (tr->ticks % 4 == 0) {
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

/*
 * Tracepoints at SDT probes known not to fire on their own (stub/program/sdt.h),
 * not hit in this run: the probe is enabled and the program never reached it,
 * which the user must hear about rather than see 0 frames.
 */
static void sdt_notes(struct trace *tr, char *out, size_t n)
{
	struct tp *tp;
	size_t used = 0;

	out[0] = '\0';
	if (tr->state == TR_NOT_RUN)
		return;
	tr__foreach(tr, tp) {
		struct bpfc_counts c;
		int w;

		if (!tp->sdt_hint || !tp->enabled || used >= n)
			continue;
		tr__counts(tr, tp, &c);
		if (c.hits)
			continue;
		w = snprintf(out + used, n - used, "%sbpfstub: tracepoint %u not hit: %s",
			     used ? "; " : "", tp->num, tp->sdt_hint);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int tr__status(struct trace *tr, struct rsp_buf *r)
{
	struct rsp_tstatus st = {0};
	char more[5120], note[2048], guard[2046], sdt[1022];
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
	/* SDT probes enabled and never reached (stub/program/sdt.h). */
	sdt_notes(tr, sdt, sizeof(sdt));
	snprintf(more, sizeof(more), "%s%s%s%s%s", note, guard[0] && any ? "; " : "", guard,
		 sdt[0] && (any || guard[0]) ? "; " : "", sdt);
	/* What was subtracted from $latency_ns (retprobe.c): said in the file tsave writes. */
	if (tr->lat_bias_note[0] && tr->state != TR_NOT_RUN)
		snprintf(more + strlen(more), sizeof(more) - strlen(more), "%s%s",
			 more[0] || any ? "; " : "", tr->lat_bias_note);
	st.more_notes = more;
	return rsp_enc_tstatus(r, &st);
}

/* tp_remove: every record written before, stored (the others may go on writing). */
void tr_run__drain_all(struct trace *tr)
{
	consume(tr, &drain_all);
}
