/* SPDX-License-Identifier: MIT */
/*
 * stub/views/tdump.c - stored frames as text (see tdump.h).
 *
 * A frame is looked at as tfind shows it (stub/views/frame.h's view over
 * its blocks, with the live read-only rule), named by the DWARF scope at
 * its pc.  The frame's time and thread are the builtin trace state
 * variables every frame carries; a Go frame's goroutine id is
 * runtime.g.goid read from the frame's memory at r14 (Go's g register on
 * amd64), when the hit collected it.
 *
 * A frame with registers and its stack window also gets its call stack
 * (`stack:`), by the frame-pointer chain in the collected stack
 * (stub/views/fpstack.h), each return address checked to be code of the
 * target and named by the program layer (dw_cache__name_at): cheap, no
 * CFI, and the same for a binary with DWARF, symbols only or (Go) its
 * function table.
 *
 * Text goes into the caller's buffer, never to a client: the monitor
 * commands (stub/serve/monitor.c) and tlive (stub/serve/tlive.c) send it
 * to the console, and anything else holding a trace could print it too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/types.h>

#include "bpf/clock.h"
#include "rsp/buf.h"
#include "rsp/mexpr.h"
#include "stub/program/dwarf.h"
#include "stub/program/program.h"
#include "stub/program/regs.h"
#include "stub/program/target.h"
#include "stub/program/tgtns.h"
#include "stub/trace/montrace.h"
#include "stub/trace/retprobe.h"
#include "stub/trace/trace.h"
#include "stub/views/fpstack.h"
#include "stub/views/frame.h"
#include "stub/views/mprint.h"
#include "stub/views/tdump.h"

#define SUMMARY_MAX 160 /* bytes of values on a tframes line */

static void view_fini(struct fview *fv)
{
	fview__close(fv);
	free(fv);
}

/* Frame n as a typed view (scope_err/why when no scope); NULL: no frame n or no memory. */
static struct fview *view_get(struct trace *tr, struct tgt *t, size_t n, int *err)
{
	struct fview *fv = calloc(1, sizeof(*fv));

	*err = -ENOMEM;
	if (!fv)
		return NULL;
	*err = fview__open(fv, tr, t, n);
	if (*err) {
		free(fv);
		return NULL;
	}
	fview__scope(fv);
	return fv;
}

static bool builtin_tsv(struct fview *fv, uint32_t num, int64_t *val)
{
	return tr__frame_builtin(fv->tr, &fv->f, num, val);
}

/* "13:01:02.123456" (local time) or "-". */
static void put_time(struct fview *fv, struct rsp_buf *out)
{
	int64_t us;
	time_t sec;
	struct tm tm;

	if (!builtin_tsv(fv, TR_TSV_TIMESTAMP, &us) || us < 0) {
		rsp_buf__puts(out, "-");
		return;
	}
	sec = (time_t)(us / 1000000);
	localtime_r(&sec, &tm);
	rsp_buf__printf(out, "%02d:%02d:%02d.%06lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
			(long long)(us % 1000000));
}

/* A Go frame's goroutine id: runtime.g.goid at r14 in the frame's memory. */
static bool goroutine(struct fview *fv, int64_t *id)
{
	struct dw_cache *c = fv->tr->pgm->dwarf;
	uint64_t g;
	int64_t off;
	char msg[200];

	if (!c || !mprint__reg(&fv->v, 14, &g) || !g ||
	    dw_cache__go_goid(c, fv->tgt, fv->v.pc, &off, msg, sizeof(msg)))
		return false;
	return mprint__read(&fv->v, g + (uint64_t)off, id, 8);
}

static bool is_go(const struct fview *fv)
{
	return !fv->scope_err && fv->sc.go;
}

/*
 * "thread 4242  goroutine 1" (goroutine only for Go; "-" for what is
 * missing); "thread 4242 (ns 7)" in a container while the thread lives;
 * "pid 4240  thread 4242" for a target of several processes.
 */
static void put_who(struct fview *fv, struct rsp_buf *out)
{
	int64_t v;
	pid_t ns;

	/* Several processes (stub/trace/trace_procs.h): which one, first. */
	if (builtin_tsv(fv, TR_TSV_PID, &v))
		rsp_buf__printf(out, "pid %lld  ", (long long)v);
	if (builtin_tsv(fv, TR_TSV_THREAD, &v)) {
		rsp_buf__printf(out, "thread %lld", (long long)v);
		ns = v > 0 && v <= INT32_MAX ? tgtns__tid(fv->tgt, (pid_t)v) : 0;
		if (ns)
			rsp_buf__printf(out, " (ns %d)", (int)ns);
	} else
		rsp_buf__puts(out, "thread -");
	if (!is_go(fv))
		return;
	if (goroutine(fv, &v))
		rsp_buf__printf(out, "  goroutine %lld", (long long)v);
	else
		rsp_buf__puts(out, "  goroutine -");
}

/* The tracepoint that made the frame (any location of its number). */
static const struct tp *frame_tp(const struct fview *fv)
{
	return tr__first(fv->tr, fv->f.tp);
}

/* A return frame's latency ($latency_ns), "1.234 ms"; false without one. */
static bool put_latency(struct fview *fv, struct rsp_buf *out)
{
	int64_t ns;

	if (!builtin_tsv(fv, TR_TSV_LATENCY, &ns) || ns < 0)
		return false;
	if (ns < 1000)
		rsp_buf__printf(out, "%lld ns", (long long)ns);
	else if (ns < 1000000)
		rsp_buf__printf(out, "%.3f us", ns / 1e3);
	else if (ns < 1000000000)
		rsp_buf__printf(out, "%.3f ms", ns / 1e6);
	else
		rsp_buf__printf(out, "%.3f s", ns / 1e9);
	return true;
}

/*
 * A return frame's values (retprobe__values: registers at the return
 * instruction, typed by DWARF): "name = value" lines, or with sep ", "
 * one "name=value, ..." run for a frame's summary line.
 */
static void put_returns(struct fview *fv, const struct tp *tp, bool line, struct rsp_buf *out)
{
	struct dw_var vals[16];
	char msg[160];
	int n, i;

	n = retprobe__values(fv->tr, tp, vals, 16, msg, sizeof(msg));
	if (n < 0) {
		rsp_buf__printf(out, line ? "<%s>" : "(return values: %s)\n", msg);
		return;
	}
	for (i = 0; i < n; i++) {
		rsp_buf__printf(out, line ? "%s%s=" : "%s%s = ", line && i ? ", " : "",
				vals[i].name);
		if (vals[i].loc.npieces && vals[i].loc.pieces[0].kind == DWP_UNAVAIL)
			rsp_buf__printf(out, "<not collected: %s>", vals[i].loc.why);
		else
			mprint__value(out, vals[i].type, &vals[i].loc, &fv->v, is_go(fv));
		if (!line)
			rsp_buf__putc(out, '\n');
	}
}

static void dump_exprs(struct fview *fv, const char *const *texts, size_t n, struct rsp_buf *out);

/* A monitor tracepoint that names its values (no $args, no $regs). */
static bool named_only(const struct tp_mon *m)
{
	size_t i;

	for (i = 0; i < m->nexprs; i++)
		if (m->exprs[i][0] == '$')
			return false;
	return m->nexprs > 0;
}

/* Its "name = value" lines as one "name=value, ..." run, cut at SUMMARY_MAX. */
static void put_exprs_line(struct fview *fv, const struct tp_mon *m, struct rsp_buf *out)
{
	struct rsp_buf b;
	const char *p;
	bool named = false; /* the line's "name = " is behind */
	size_t n = 0;

	rsp_buf__init(&b);
	dump_exprs(fv, (const char *const *)m->exprs, m->nexprs, &b);
	for (p = b.data; p && *p && n < SUMMARY_MAX; p++, n++) {
		if (*p == '\n') {
			if (p[1])
				rsp_buf__puts(out, ", ");
			named = false;
		} else if (!named && !strncmp(p, " = ", 3)) {
			rsp_buf__putc(out, '=');
			p += 2;
			named = true;
		} else {
			rsp_buf__putc(out, *p);
		}
	}
	if (p && *p)
		rsp_buf__puts(out, "...");
	rsp_buf__free(&b);
}

static int line_of(struct fview *fv, struct rsp_buf *out)
{
	const struct tp *tp = frame_tp(fv);

	rsp_buf__printf(out, "%zu  ", fv->n);
	put_time(fv, out);
	rsp_buf__puts(out, "  ");
	put_who(fv, out);
	rsp_buf__printf(out, "  tp %u  ", fv->f.tp);
	if (fv->scope_err) {
		rsp_buf__printf(out, "0x%llx (%s)", (unsigned long long)fv->v.pc, fv->why);
	} else if (tp && tp->ret) {
		/* A return: what it returned and how long the call took. */
		rsp_buf__printf(out, "%s() -> ", fv->sc.func);
		put_returns(fv, tp, true, out);
		rsp_buf__puts(out, "  latency ");
		if (!put_latency(fv, out))
			rsp_buf__puts(out, "unknown");
	} else if (tp && tp->mon && named_only(tp->mon)) {
		/* `collect p.Label, tags[1]`: what the user named, on one line. */
		rsp_buf__printf(out, "%s: ", fv->sc.func);
		put_exprs_line(fv, tp->mon, out);
	} else {
		rsp_buf__printf(out, "%s(", fv->sc.func);
		mprint__args_summary(out, &fv->sc, &fv->v, SUMMARY_MAX);
		rsp_buf__putc(out, ')');
	}
	return out->oom ? -ENOMEM : 0;
}

int tdump__line(struct trace *tr, struct tgt *t, size_t n, struct rsp_buf *out)
{
	struct fview *fv = view_get(tr, t, n, &(int){0});
	int err;

	if (!fv)
		return -ENOENT;
	err = line_of(fv, out);
	view_fini(fv);
	return err;
}

int tdump__frames(struct trace *tr, struct tgt *t, size_t from, size_t count, struct rsp_buf *out)
{
	size_t total, n;
	struct rsp_buf b;
	int err = 0;

	tr__poll(tr);
	total = tf_store__count(&tr->store);
	if (from >= total) {
		rsp_buf__printf(out, "no frames from %zu (%zu stored)\n", from, total);
		return out->oom ? -ENOMEM : 0;
	}
	rsp_buf__init(&b);
	for (n = from; n < total && n - from < count && !err; n++) {
		rsp_buf__reset(&b);
		err = tdump__line(tr, t, n, &b);
		if (!err)
			rsp_buf__printf(out, "%s\n", b.data);
	}
	if (!err && n < total)
		rsp_buf__printf(out, "(%zu more: monitor tframes %zu)\n", total - n, n);
	rsp_buf__free(&b);
	return err ? err : out->oom ? -ENOMEM : 0;
}

/*
 * A monitor tracepoint's collections (stub/trace/montrace.c keeps their texts in
 * tp->mon): each EXPR as `TEXT = VALUE`.  Given as (texts, n) so the
 * printer does not depend on struct tp_mon's layout.
 */
static void dump_exprs(struct fview *fv, const char *const *texts, size_t n, struct rsp_buf *out)
{
	struct mx_expr *e = malloc(sizeof(*e));
	char msg[160];
	size_t i;

	if (!e)
		return;
	for (i = 0; i < n; i++) {
		if (mx_parse_value(texts[i], strlen(texts[i]), e, msg, sizeof(msg)))
			rsp_buf__printf(out, "%s = <%s>\n", texts[i], msg);
		else
			mprint__expr(out, e, texts[i], &fv->sc, &fv->v);
	}
	free(e);
}

/* A `monitor trace -return` frame: its return values and the call's latency. */
static void dump_return(struct fview *fv, const struct tp *tp, struct rsp_buf *out)
{
	put_returns(fv, tp, false, out);
	rsp_buf__puts(out, "latency = ");
	if (!put_latency(fv, out))
		rsp_buf__puts(out, "unknown (the call began before the trace)");
	rsp_buf__putc(out, '\n');
}

static void dump_values(struct fview *fv, struct rsp_buf *out)
{
	static const char *const args[] = {"$args"};
	const struct tp *tp = frame_tp(fv);
	if (fv->scope_err) {
		rsp_buf__printf(out, "(no values: %s)\n", fv->why);
		return;
	}
	if (tp && tp->ret) {
		dump_return(fv, tp, out);
		return;
	}
	/* A `monitor trace` tracepoint: its own expressions ($args, $regs among them). */
	if (tp && tp->mon) {
		dump_exprs(fv, (const char *const *)tp->mon->exprs, tp->mon->nexprs, out);
		return;
	}
	if (!fv->v.regs) {
		/* Only with always-regs off, or a frame of such a run. */
		rsp_buf__puts(out,
			      "(no registers collected: `collect $regs` in the tracepoint's "
			      "actions, or `monitor set always-regs on` before tstart, lets tdump "
			      "show the parameters)\n");
		return;
	}
	dump_exprs(fv, args, 1, out);
}

/* The walk's memory: what the frame collected, nothing live (a stack changes). */
static size_t stack_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct fview *fv = ctx;

	return tf_frame__read_mem(&fv->f, addr, buf, len);
}

/*
 * pc's name, if it is in an executable mapping of the target and a function
 * there has one: 0, -ENOENT, or -ESRCH with the target's maps unreadable.
 */
static int stack_name(struct fview *fv, uint64_t pc, struct dw_pcname *nm)
{
	struct dw_cache *c = fv->tr->pgm ? fv->tr->pgm->dwarf : NULL;
	struct tgt_map m;

	if (!c || !fv->tgt || tgt__region(fv->tgt, pc, &m))
		return -ESRCH;
	if (m.perms[2] != 'x')
		return -ENOENT;
	return dw_cache__name_at(c, fv->tgt, pc, nm) ? -ENOENT : 0;
}

/* "#1 0x401186 in level2 at fpchain.c:31": where is pc (a return address: at - 1). */
static void put_stack_line(size_t i, uint64_t pc, uint64_t at, const struct dw_pcname *nm,
			   struct rsp_buf *out)
{
	rsp_buf__printf(out, "#%zu 0x%llx in %s", i, (unsigned long long)pc, nm->func);
	if (nm->src == DWN_SYMBOLS)
		rsp_buf__printf(out, "+0x%llx", (unsigned long long)(at - nm->entry));
	if (nm->line)
		rsp_buf__printf(out, " at %s:%d", nm->file, nm->line);
	if (nm->outer[0])
		rsp_buf__printf(out, " (inlined into %s)", nm->outer);
	rsp_buf__putc(out, '\n');
}

/* Why the walk stopped, where it says something. */
static void put_stack_stop(struct fview *fv, const struct fps_walk *w, const char *func,
			   uint64_t rsp, struct rsp_buf *out)
{
	uint8_t b[8];

	switch (w->stop) {
	case FPS_END:
		break;
	case FPS_WINDOW:
		if (!tf_frame__read_mem(&fv->f, rsp, b, sizeof(b)))
			rsp_buf__puts(out, "(no stack collected in this frame: callers unknown)\n");
		else
			rsp_buf__printf(out,
					"(the stack window ends at 0x%llx: `monitor set "
					"stack-window BYTES` collects more, up to %u)\n",
					(unsigned long long)w->at, TR_STACK_WINDOW_MAX);
		break;
	case FPS_BROKEN:
		rsp_buf__printf(out,
				"(the frame-pointer chain breaks: rbp 0x%llx is not a frame above "
				"the last; frame pointers omitted?)\n",
				(unsigned long long)w->at);
		break;
	case FPS_LIMIT:
		rsp_buf__printf(out, "(%d frames: the rest not walked)\n", FPS_MAX);
		break;
	case FPS_NOFRAME:
		rsp_buf__printf(out,
				"(callers unknown: %s keeps no frame pointer at this pc; built "
				"without -fno-omit-frame-pointer?)\n",
				func);
		break;
	}
}

/*
 * The call stack by frame pointers: the hit's function, then each caller
 * (named at its return address - 1, the call, as GDB's bt), up to main
 * (main.main for Go, as GDB stops), the first return address that is not
 * code of the target, or where the walk stops.
 */
static void put_stack(struct fview *fv, struct rsp_buf *out)
{
	struct dw_pcname nm;
	struct fps_walk w;
	uint64_t rsp, rbp, adj, pc = fv->v.pc;
	uint8_t code[64], at_pc[2];
	ssize_t ne, np;
	enum fps_start st;
	char func[DW_NAME_MAX];
	size_t i;
	int err;

	if (!mprint__reg(&fv->v, AMD64_RSP, &rsp) || !mprint__reg(&fv->v, AMD64_RBP, &rbp))
		return;
	rsp_buf__puts(out, "stack:\n");
	err = stack_name(fv, pc, &nm);
	if (err) {
		rsp_buf__printf(out, "#0 0x%llx\n(%s: callers unknown)\n", (unsigned long long)pc,
				err == -ESRCH ? "the target's maps cannot be read (it exited?)"
					      : "no function known at this pc");
		return;
	}
	snprintf(func, sizeof(func), "%s", nm.outer[0] ? nm.outer : nm.func);
	ne = fview__live_mem(fv, nm.entry, code, sizeof(code));
	np = fview__live_mem(fv, pc, at_pc, sizeof(at_pc));
	st = fpstack__start(code, ne > 0 ? (size_t)ne : 0, pc - nm.entry, at_pc,
			    np > 0 ? (size_t)np : 0, nm.go, &adj);
	fpstack__walk(pc, rsp, rbp, st, adj, stack_mem, fv, &w);
	for (i = 0; i < w.n; i++) {
		uint64_t at = i ? w.pcs[i] - 1 : pc;

		if (i && stack_name(fv, at, &nm)) {
			rsp_buf__printf(out,
					"(the frame-pointer chain breaks at #%zu: 0x%llx is not a "
					"return address into the target's code; frame pointers "
					"omitted?)\n",
					i, (unsigned long long)w.pcs[i]);
			return;
		}
		put_stack_line(i, w.pcs[i], at, &nm, out);
		if (!nm.outer[0] && !strcmp(nm.func, nm.go ? "main.main" : "main"))
			return;
	}
	put_stack_stop(fv, &w, func, rsp, out);
}

int tdump__frame(struct trace *tr, struct tgt *t, long n, long selected, struct rsp_buf *out,
		 char *msg, size_t mlen)
{
	struct fview *fv;
	struct rsp_buf b;
	size_t total;
	int err;

	tr__poll(tr);
	total = tf_store__count(&tr->store);
	if (n < 0)
		n = selected >= 0 ? selected : (long)total - 1;
	if (n < 0 || (size_t)n >= total) {
		rsp_buf__msgf(msg, mlen, "no frame %ld (%zu stored)", n, total);
		return -ENOENT;
	}
	fv = view_get(tr, t, (size_t)n, &err);
	if (!fv) {
		rsp_buf__msgf(msg, mlen, "frame %ld: %s", n, strerror(-err));
		return err;
	}
	rsp_buf__init(&b);
	rsp_buf__printf(&b, "frame %ld: tracepoint %u, ", n, fv->f.tp);
	if (!fv->scope_err)
		rsp_buf__printf(&b, "%s", fv->sc.func);
	if (!fv->scope_err && fv->sc.symbols && fv->sc.go)
		rsp_buf__printf(
			&b, " (no DWARF: Go's function table, %s)",
			frame_tp(fv) && frame_tp(fv)->ret
				? "results are Go's registers ~r0.. = rax, rbx, rcx, rdi, untyped"
			: fv->sc.nvars ? "arguments are Go's registers ~a0.. = rax, rbx, rcx, "
					 "rdi, rsi, r8..r11, untyped"
				       : "no arguments shown");
	else if (!fv->scope_err && fv->sc.symbols)
		rsp_buf__printf(&b, " (no DWARF: ELF symbol, %s)",
				fv->sc.nvars ? "arguments are registers, untyped" : "no arguments");
	rsp_buf__printf(&b, " at 0x%llx, ", (unsigned long long)fv->v.pc);
	put_who(fv, &b);
	rsp_buf__puts(&b, ", ");
	put_time(fv, &b);
	rsp_buf__putc(&b, '\n');
	dump_values(fv, &b);
	if (fv->v.regs)
		put_stack(fv, &b);
	err = b.oom ? -ENOMEM : 0;
	if (!err && b.data)
		rsp_buf__puts(out, b.data);
	rsp_buf__free(&b);
	view_fini(fv);
	return err ? err : out->oom ? -ENOMEM : 0;
}
