/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/trace_prog.c - one tracepoint location becomes a loaded, attached
 * BPF program, and goes back to nothing.
 *
 * stub/trace/trace.c keeps what GDB defined and decides when a location runs;
 * this file decides what its program collects.  The registers become an R
 * block (when GDB asked for them, and with always-regs in every frame), GDB's
 * memory ranges and a stack window M blocks (cut to what one record holds),
 * GDB's expressions and the condition go in as agent bytecode, then what
 * the location's kind adds (struct tp_kind, stub/trace/trace.h: deep
 * collection, stub/trace/deep.h, or a return location's values) after
 * them; the kind is only ever called through tp->kind.  A program the kernel refuses with deep
 * collection is built again without it, so the tracepoint still runs.  Attaching is a uprobe
 * filtered on the target's pid (bpf/probe.c), raising an SDT semaphore
 * where the site has one (stub/program/sdt.h) - a site whose semaphore the
 * kernel cannot raise, or did not, is refused with the probe's name rather
 * than attached to collect nothing - after what the kind attaches first (a
 * return location's entry probe).  A target of several processes
 * (stub/trace/trace_procs.h) gets one uprobe on the file for all of them,
 * its program checking the process map where there is one.  Stop switches are handed out
 * here (tr__stop_take), since they belong to programs.
 *
 * It is its own file because none of this is the trace's state: it reads
 * the trace's maps and variables and writes only the location's program.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpf/reap.h"
#include "bpf/record.h"
#include "bpf/ring.h"
#include "rsp/trace.h"
#include "stub/program/program.h"
#include "stub/program/regs.h"
#include "stub/program/sdt.h"
#include "stub/program/target.h"
#include "stub/trace/deep.h"
#include "stub/trace/trace.h"
#include "stub/trace/trace_int.h"

#define TR_REG_RSP 7 /* GDB's amd64 register number */

/* One range into mem[], in chunks an M block holds; -E2BIG past the record's room. */
static int add_range(struct tp *tp, struct bpfc_mem *mem, size_t cap, size_t *n, size_t *total,
		     int basereg, int64_t offset, uint64_t len, unsigned flags, char *msg,
		     size_t mlen)
{
	uint64_t left, off;

	for (left = len, off = 0; left;) {
		uint64_t chunk = left > BPFC_MEM_MAX ? BPFC_MEM_MAX : left;

		if (*n == cap) {
			snprintf(msg, mlen, "tracepoint %u: more than %zu memory ranges", tp->num,
				 cap);
			return -E2BIG;
		}
		mem[*n].basereg = basereg < 0 ? BPFC_BASEREG_ABS : basereg;
		mem[*n].offset = offset + (int64_t)off;
		mem[*n].len = (uint32_t)chunk;
		mem[*n].flags = flags;
		*total += bpfc_mem__blk_size(&mem[*n]);
		if (*total > BPFC_REC_MAX - REGS_G_SIZE - 64) {
			snprintf(msg, mlen,
				 "tracepoint %u collects more than %u bytes per hit, the "
				 "most one BPF ring buffer record holds",
				 tp->num, BPFC_REC_MAX - REGS_G_SIZE - 64);
			return -E2BIG;
		}
		(*n)++;
		left -= chunk;
		off += chunk;
	}
	return 0;
}

/*
 * GDB's memory ranges, then the stack window: `window` bytes above rsp
 * (GDB register 7), so that `bt` in tfind unwinds through the callers.
 * The window only helps a frame that has the registers, and it gives way
 * (shrinks or goes) when GDB's own ranges leave no room in the record.
 * A read that runs off the top of the stack mapping fails whole
 * (bpf_probe_read_user zeroes its buffer), so the window is clamped: it
 * keeps what lies below the first unmapped page (BPFC_MEM_CLAMP).
 * `stack-window fp` (window TR_STACK_WINDOW_FP) asks for the frame-pointer
 * chain and its small window instead (fp, one block: bpf/fpchain.h):
 * *with_fp says whether it fits beside GDB's ranges.
 */
static int build_spec(struct tp *tp, bool regs, uint32_t window, const struct bpfc_fp *fp,
		      bool *with_fp, struct bpfc_mem *mem, size_t cap, size_t *n, char *msg,
		      size_t mlen)
{
	size_t i, total = 0, room;
	int err;

	*n = 0;
	*with_fp = false;
	for (i = 0; i < tp->nact; i++) {
		const struct tp_action *a = &tp->act[i];

		if (a->kind != TPA_MEM)
			continue;
		err = add_range(tp, mem, cap, n, &total, a->basereg, a->offset, a->len, 0, msg,
				mlen);
		if (err)
			return err;
	}
	room = BPFC_REC_MAX - REGS_G_SIZE - 64 - total;
	if (!regs || !window || room <= BPFC_VBLK_HDR * 4)
		return 0;
	/* Leave room for the blocks of a tracepoint's expressions. */
	room = (room - BPFC_VBLK_HDR * 4) / 2;
	if (window == TR_STACK_WINDOW_FP) {
		/* The chain needs its whole block, or it gives way to GDB's ranges. */
		*with_fp = room >= bpfc_fp__blk_size(fp);
		return 0;
	}
	if (*n == cap)
		return 0;
	if (window > room)
		window = (uint32_t)room;
	return add_range(tp, mem, cap, n, &total, TR_REG_RSP, 0, window, BPFC_MEM_CLAMP, msg, mlen);
}

/* The variables map: GDB's numbers to map slots (index in tr->tsvs). */
static void fill_vars(struct trace *tr, struct bpfc_tsvs *v, struct bpfc_tsv_slot *slots)
{
	size_t i;

	memset(v, 0, sizeof(*v));
	v->fd = tr->tsv_fd;
	for (i = 0; i < tr->ntsvs; i++) {
		slots[i].num = tr->tsvs[i].num;
		slots[i].slot = (uint32_t)i;
	}
	v->map = slots;
	v->n = tr->ntsvs;
	/* A number GDB gave to one of its own variables is no longer builtin. */
	v->timestamp = tr_int__is_builtin(tr, TR_TSV_TIMESTAMP) ? TR_TSV_TIMESTAMP : 0;
	v->timestamp_offset_us = (int64_t)tr->mono_to_wall_us;
	v->thread = tr_int__is_builtin(tr, TR_TSV_THREAD) ? TR_TSV_THREAD : 0;
	v->pid = tr_int__is_builtin(tr, TR_TSV_PID) ? TR_TSV_PID : 0;
}

/* Build, then load, tp's program from spec; msg says which step failed. */
static int build_load(struct trace *tr, struct tp *tp, const struct bpfc_spec *spec, char *msg,
		      size_t mlen)
{
	int err;

	bpfc_prog__free(&tp->prog);
	err = bpfc_prog__build(spec, bpfc_ring__map_fd(tr->ring), tr->counters_fd, &tp->prog);
	if (err) {
		snprintf(msg, mlen, "tracepoint %u: %s", tp->num,
			 tp->prog.msg[0] ? tp->prog.msg : strerror(-err));
		return err;
	}
	tp->prog.multi = bpfc_probe__multi_ok();
	err = bpfc_prog__load(&tp->prog);
	if (err)
		snprintf(msg, mlen, "tracepoint %u: the kernel refused its BPF program: %s%s%.120s",
			 tp->num, strerror(-err), tp->prog.log ? ": " : "",
			 tp->prog.log ? tp->prog.log : "");
	return err;
}

/*
 * Stop switches (bpf/collect.h) belong to programs, so they are handed out
 * here: never one a program held here uses, nor one of a uprobe still being
 * released (bpf/reap.h).
 */
static bool stop_held(const struct trace *tr, uint32_t id)
{
	const struct tp *tp;

	tr__foreach(tr, tp) {
		if (tp->stop_held && tp->stop.id == id)
			return true;
		if (tp->kind->holds_stop && tp->kind->holds_stop(tp, id))
			return true;
	}
	return false;
}

int tr__stop_take(struct trace *tr, struct bpfc_stop *s, char *msg, size_t mlen)
{
	uint32_t k, id;
	int err;

	if (tr->stop_fd < 0) {
		err = bpfc_stop__create(BPFC_STOP_SLOTS);
		if (err < 0) {
			snprintf(msg, mlen, "cannot create BPF maps: %s", strerror(-err));
			return err;
		}
		tr->stop_fd = err;
	}
	for (k = 0; k < BPFC_STOP_SLOTS; k++) {
		id = (tr->stop_next + k) % BPFC_STOP_SLOTS;
		if (stop_held(tr, id) || bpfc_reap__busy((int)id))
			continue;
		tr->stop_next = id + 1;
		s->fd = tr->stop_fd;
		s->id = id;
		err = bpfc_stop__set(s, true);
		if (err)
			snprintf(msg, mlen, "cannot set a stop switch: %s", strerror(-err));
		return err;
	}
	snprintf(msg, mlen, "no free stop switch: %zu uprobes are still being released",
		 bpfc_reap__pending());
	return -EBUSY;
}

/* Build and load tp's BPF program (not attached yet). */
int tr_prog__load(struct trace *tr, struct tp *tp, char *msg, size_t mlen)
{
	struct bpfc_tsv_slot slots[TR_MAX_TPS];
	struct bpfc_expr exprs[RSP_TP_ACTIONS_MAX * 4], cond;
	struct bpfc_mem mem[64];
	struct bpfc_spec spec = {0};
	struct tp_build b = {.stack_window = tr->stack_window};
	const struct bpfc_fp fp = {.frames = TR_FP_FRAMES, .window = TR_FP_WINDOW};
	bool with_fp;
	size_t nmem, i, nexpr = 0, ngdb;
	int err;

	/* A kind with a program of its own (a histogram: no frame, stub/trace/histo.c). */
	if (tp->kind->load) {
		if (!tp->stop_held) {
			err = tr__stop_take(tr, &tp->stop, msg, mlen);
			if (err)
				return err;
			tp->stop_held = true;
		}
		return tp->kind->load(tr, tp, msg, mlen);
	}

	/*
	 * Registers when an action asks for them (an R action, any mask), and
	 * with always-regs on in every frame whatever the actions: one R block,
	 * never two.  Off, as gdbserver: a frame without them shows them
	 * <unavailable>.  The stack window comes with the registers GDB asked
	 * for, or with always-regs for a tracepoint that names nothing of its
	 * own (tr__tp_regs_only: no actions, `collect $rip`, a `collect $args`
	 * GDB found nothing for), which is then collected as `collect $regs`;
	 * one that names its collections gets only the registers beside them.
	 */
	for (i = 0; i < tp->nact; i++)
		b.regs |= tp->act[i].kind == TPA_REGS;
	if (!b.regs && tr->always_regs) {
		b.regs = true;
		if (!tr__tp_regs_only(tp))
			b.stack_window = 0;
	}
	/* What its kind adds (a return location: registers, latency, the goroutine id). */
	if (tp->kind->prepare) {
		err = tp->kind->prepare(tr, tp, &b, msg, mlen);
		if (err)
			return err;
	}
	spec.lat = b.lat;
	err = build_spec(tp, b.regs, b.stack_window, &fp, &with_fp, mem,
			 sizeof(mem) / sizeof(mem[0]), &nmem, msg, mlen);
	if (err)
		return err;
	for (i = 0; i < b.nmem && nmem < sizeof(mem) / sizeof(mem[0]); i++)
		mem[nmem++] = b.mem[i];
	spec.tp = tp->slot;
	spec.slot = tp->slot;
	spec.mem = mem;
	spec.nmem = nmem;
	spec.fp = with_fp ? &fp : NULL;
	spec.flags = b.regs ? 0 : BPFC_SPEC_NO_REGS;
	if (tp->cond) {
		cond.code = tp->cond;
		cond.len = tp->condlen;
		spec.cond = &cond;
	}
	for (i = 0; i < tp->nact; i++) {
		const struct tp_action *a = &tp->act[i];

		/* "end" alone (what GDB sends for an optimized-out variable) does nothing. */
		if (a->kind != TPA_EXPR || (a->axlen == 1 && a->ax[0] == BPFC_AXOP_END))
			continue;
		if (nexpr == sizeof(exprs) / sizeof(exprs[0])) {
			snprintf(msg, mlen, "tracepoint %u: too many expressions", tp->num);
			return -E2BIG;
		}
		exprs[nexpr].code = a->ax;
		exprs[nexpr].len = a->axlen;
		nexpr++;
	}
	/* Deep collection (stub/trace/deep.h) comes after GDB's own expressions. */
	ngdb = nexpr;
	if (tp->kind->deep)
		tp->kind->deep(tr, tp, exprs, &nexpr, sizeof(exprs) / sizeof(exprs[0]));
	spec.actions = exprs;
	spec.nactions = nexpr;
	fill_vars(tr, &spec.vars, slots);
	spec.pass = tp->pass;
	spec.gate_fd = tr->gate_fd;
	if (!tp->stop_held) {
		err = tr__stop_take(tr, &tp->stop, msg, mlen);
		if (err)
			return err;
		tp->stop_held = true;
	}
	spec.stop = &tp->stop;
	/* Several processes: only those of the process map, when there is one. */
	spec.procs = tr->procs.map_fd >= 0 && tr_procs__multi(tr);
	spec.procs_fd = tr->procs.map_fd;
	err = build_load(tr, tp, &spec, msg, mlen);
	if (err && nexpr > ngdb) {
		/* Refused with deep collection: the tracepoint goes on without it. */
		deep__refused(tr, tp, msg);
		spec.nactions = ngdb;
		err = build_load(tr, tp, &spec, msg, mlen);
	}
	return err;
}

/*
 * After tp's uprobe at an SDT site went in with the semaphore as its
 * reference counter: has the kernel raised it?  The kernel postpones the
 * increment where it finds no writable mapping of the file holding it (a
 * "delayed uprobe"), and the probe would then sit on a site that never
 * runs.  0, or -EIO with a message naming the probe.
 */
static int sdt_raised(struct trace *tr, const struct tp *tp, const struct sdt_site *site, char *msg,
		      size_t mlen)
{
	unsigned char v[2];

	if (!site->sem_addr)
		return 0;
	if (tgt__read_mem(tr->tgt, site->sem_addr, v, 2) == 2 && (v[0] | v[1]))
		return 0;
	snprintf(msg, mlen,
		 "tracepoint %u at 0x%llx: the kernel did not raise the semaphore (0x%llx) of "
		 "SDT probe %s: its site would never run",
		 tp->num, (unsigned long long)tp->addr, (unsigned long long)site->sem_addr,
		 site->probe);
	return -EIO;
}

/* Attach tp's loaded program: from now on it collects. */
int tr_prog__attach(struct trace *tr, struct tp *tp, char *msg, size_t mlen)
{
	struct sdt_site site;
	char why[200];
	int err;

	/* An SDT probe site with a semaphore: the kernel raises it while attached (sdt.h).
	 * One it cannot raise is refused here: attached, it would collect nothing. */
	err = program__sdt_site(tr->pgm, tp->addr, &site);
	if (err == 1 && site.why[0]) {
		snprintf(msg, mlen, "tracepoint %u at 0x%llx: SDT probe %s cannot be enabled: %s",
			 tp->num, (unsigned long long)tp->addr, site.probe, site.why);
		return -EPERM;
	}
	if (err != 1)
		memset(&site, 0, sizeof(site));
	tp->sdt_hint = site.hint;
	/* What its kind needs first (a return location: its function's entry probe). */
	if (tp->kind->entry_get) {
		err = tp->kind->entry_get(tr, tp, msg, mlen);
		if (err)
			return err;
	}
	/* Several processes: one uprobe on the file for all of them (bpf/probe.h). */
	if (tr_procs__multi(tr))
		err = bpfc_probe__attach_shared(&tp->probe, tr->tgt->pid, tp->addr, tp->prog.fd,
						BPFC_PROBE_PATH_AUTO, site.ref_ctr_offset, why,
						sizeof(why));
	else
		err = bpfc_probe__attach_ex(&tp->probe, tr->tgt->pid, tp->addr, tp->prog.fd,
					    tp->prog.multi, BPFC_PROBE_PATH_AUTO,
					    site.ref_ctr_offset, why, sizeof(why));
	if (err) {
		if (tp->kind->entry_put)
			tp->kind->entry_put(tp);
		snprintf(msg, mlen, "tracepoint %u at 0x%llx%s%s%s: %s", tp->num,
			 (unsigned long long)tp->addr, site.probe[0] ? " (SDT probe " : "",
			 site.probe, site.probe[0] ? ")" : "", why);
		return err;
	}
	tp->installed = true;
	err = sdt_raised(tr, tp, &site, msg, mlen);
	if (err) {
		tr_prog__uninstall(tp);
		return err;
	}
	guard__tp_attached(tp);
	return 0;
}

int tr_prog__install(struct trace *tr, struct tp *tp, char *msg, size_t mlen)
{
	int err;

	if (tp->installed || !tp->enabled)
		return 0;
	err = tr_prog__load(tr, tp, msg, mlen);
	return err ? err : tr_prog__attach(tr, tp, msg, mlen);
}

/*
 * Detach and free tp's program (loaded by a QTStart that failed, too).
 * The program stops at once (its stop switch); its uprobe goes in the
 * background (bpf/reap.h), keeping the switch busy until it is closed.
 */
void tr_prog__uninstall(struct tp *tp)
{
	if (tp->installed) {
		bpfc_stop__set(&tp->stop, false);
		bpfc_reap__probe(&tp->probe, (int)tp->stop.id);
		if (tp->kind->entry_put)
			tp->kind->entry_put(tp);
	}
	bpfc_prog__free(&tp->prog);
	tp->stop_held = false;
	tp->installed = false;
}
