/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/handlers.c - what each packet means, in one static table.
 *
 * Every packet bpfstub understands has one row in handlers[]: its name, the
 * qSupported feature it implements (if any) and the function that answers
 * it.  The same table produces the qSupported reply, so bpfstub advertises
 * exactly what it implements; a packet with no row gets the empty reply.
 * The server hands every packet here (hdl__packet: dispatch, then the
 * framed reply queued on the session), so the session below knows nothing
 * of this table.  A selected trace frame is read through the frame view
 * (stub/views/frame.h), the same one the monitor's tdump prints.
 *
 * The target is never stopped, so the answers keep up a careful fiction
 * that both GDB and LLDB accept (see shared/docs/client-behaviour.md):
 *  - all-stop: '?' names one "stopped" thread with a real PC (from
 *    /proc/PID/task/TID/syscall while it sleeps in a syscall, else
 *    AT_ENTRY).  GDB's 'c' is answered at once with a SIGINT stop and a
 *    console line saying why, so GDB never believes the target runs (it
 *    would refuse every trace command then); LLDB's 'c' is silent until
 *    0x03, which answers a SIGINT stop.
 *  - non-stop: '?' names one "stopped" thread with its PC, which GDB
 *    handles before `target remote` returns: its post-attach setup (PIE
 *    relocation, shared libraries) is done even in a script that never runs
 *    the event loop.  Every vCont;t gets OK and a %Stop notification
 *    carrying a PC.
 *  - GDB's breakpoints (Z0-Z4) are accepted and never fire: a refused one
 *    stays in GDB's list and aborts every later resume.
 *  - registers other than PC and SP are unknown: 'x' for GDB, which shows
 *    <unavailable>, but an error for LLDB, which would read 'x' as 0xcc.
 *  - every write (M, X with data, G, P; Z for LLDB) is refused and never
 *    done; GDB's write of an SDT semaphore under a tracepoint alone gets OK,
 *    since the kernel raises it (stub/program/sdt.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rsp/dispatch.h"
#include "rsp/framer.h"
#include "rsp/monitor.h"
#include "rsp/parse.h"
#include "stub/program/osdata.h"
#include "stub/program/regs.h"
#include "stub/program/sdt.h"
#include "stub/serve/handlers.h"
#include "stub/serve/monitor.h"
#include "stub/serve/server.h"
#include "stub/serve/session.h"
#include "stub/serve/tlive.h"
#include "stub/trace/trace.h"
#include "stub/views/frame.h"

/* The largest memory read served at once (m, x): well inside PacketSize. */
#define MEM_READ_MAX ((SESS_PACKET_SIZE - 16) / 2)

/* ---- helpers ------------------------------------------------------------ */

/* A thread id from the wire, checked against the target: 0 if it names none. */
static pid_t resolve_tid(struct sess *s, const struct rsp_tid *t)
{
	if (t->pid != RSP_TID_NONE && t->pid > 0 && t->pid != s->tgt->pid)
		return 0;
	if (t->tid == RSP_TID_ALL || t->tid == RSP_TID_ANY)
		return s->tgt->pid;
	if (t->tid <= 0 || t->tid > INT32_MAX || !tgt__has_thread(s->tgt, (pid_t)t->tid))
		return 0;
	return (pid_t)t->tid;
}

/* PC and SP of a thread without stopping it; pc falls back to AT_ENTRY. */
static void thread_pc_sp(struct sess *s, pid_t tid, uint64_t *pc, uint64_t *sp, bool *have_sp)
{
	size_t i;

	/* As first read since the last stop report (session.h, snap). */
	for (i = 0; i < s->nsnap; i++) {
		if (s->snap[i].tid == tid) {
			*pc = s->snap[i].pc;
			*sp = s->snap[i].sp;
			*have_sp = s->snap[i].have_sp;
			return;
		}
	}
	*have_sp = false;
	if (tgt__thread_pc_sp(s->tgt, tid, pc, sp) == 0) {
		*have_sp = true;
	} else {
		*pc = s->tgt->entry;
		*sp = 0;
	}
	if (s->nsnap < SESS_SNAP_MAX) {
		s->snap[s->nsnap].tid = tid;
		s->snap[s->nsnap].pc = *pc;
		s->snap[s->nsnap].sp = *sp;
		s->snap[s->nsnap++].have_sp = *have_sp;
	}
}

static void put_expedited(struct sess *s, struct rsp_buf *r, pid_t tid)
{
	uint64_t pc, sp;
	bool have_sp;

	thread_pc_sp(s, tid, &pc, &sp, &have_sp);
	rsp_buf__printf(r, "%02x:", AMD64_RIP);
	rsp_buf__put_le_hex(r, pc, 8);
	rsp_buf__putc(r, ';');
	if (have_sp) {
		rsp_buf__printf(r, "%02x:", AMD64_RSP);
		rsp_buf__put_le_hex(r, sp, 8);
		rsp_buf__putc(r, ';');
	}
}

/* "T<sig>thread:<id>;10:<pc>;07:<sp>;" for thread tid. */
static int stop_reply_tid(struct sess *s, struct rsp_buf *r, unsigned sig, pid_t tid)
{
	/* A new stop report: registers are read afresh from here on. */
	s->nsnap = 0;
	s->stop_tid = tid;
	rsp_buf__printf(r, "T%02xthread:", sig);
	sess__put_tid(s, r, s->stop_tid);
	rsp_buf__putc(r, ';');
	put_expedited(s, r, s->stop_tid);
	return 0;
}

/* "T<sig>thread:<id>;<expedited pc, sp>" for the main thread (tid == pid). */
static int stop_reply(struct sess *s, struct rsp_buf *r, unsigned sig)
{
	return stop_reply_tid(s, r, sig, s->tgt->pid);
}

/* Queue "%Stop:T00..." for tid after the reply (non-stop). */
static void queue_stop_notification(struct sess *s, pid_t tid)
{
	struct rsp_buf n;

	rsp_buf__init(&n);
	rsp_buf__puts(&n, "Stop:");
	stop_reply_tid(s, &n, 0, tid);
	/* The server sends it right after the reply. */
	rsp_buf__free(&s->notify);
	s->notify = n;
}

/* ---- connection and queries --------------------------------------------- */

static int supported(struct rsp_buf *out);

static int h_qsupported(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_client_features f;

	if (rsp_parse_qsupported(a, len, &f))
		return sess__error(s, r, "malformed qSupported");
	s->multiprocess = f.multiprocess;
	return supported(r);
}

static int h_noack(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (len)
		return 0;
	/* The OK still goes out under the old mode; the server switches after. */
	s->noack = true;
	return rsp_buf__puts(r, "OK");
}

static int h_ok(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return rsp_buf__puts(r, "OK");
}

static int h_thread_suffix(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	s->lldb = true;
	return rsp_buf__puts(r, "OK");
}

static int h_qattached(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	return rsp_buf__puts(r, s->tgt->launched ? "0" : "1");
}

static int h_qc(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (len)
		return 0;
	rsp_buf__puts(r, "QC");
	return sess__put_tid(s, r, s->stop_tid ? s->stop_tid : s->tgt->pid);
}

static int h_stop_reason(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (len)
		return 0;
	if (!tgt__alive(s->tgt))
		return sess__exit_reply(s, r);
	s->running = false;
	if (s->nonstop) {
		/*
		 * One thread reported stopped, with its PC: GDB handles a stop in
		 * the reply to '?' before `target remote` returns, so it relocates
		 * a PIE and loads the shared libraries even in a script, which
		 * never runs its event loop for a %Stop notification.  GDB then
		 * shows that thread stopped (the others running) until `continue`.
		 */
		return stop_reply(s, r, 0);
	}
	return stop_reply(s, r, 5);
}

static int h_fthreadinfo(void *ctx, const char *a, size_t len, struct rsp_buf *r);

static int h_sthreadinfo(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	size_t first = s->thread_next;

	if (s->thread_next >= s->thread_count)
		return rsp_buf__putc(r, 'l');
	rsp_buf__putc(r, 'm');
	while (s->thread_next < s->thread_count && r->len < 2048) {
		if (s->thread_next > first)
			rsp_buf__putc(r, ',');
		sess__put_tid(s, r, s->thread_list[s->thread_next++]);
	}
	return 0;
}

static int h_fthreadinfo(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct tgt_thread *th = NULL;
	size_t n = 0, i;
	int err;

	err = tgt__threads(s->tgt, &th, &n);
	if (err)
		return sess__error(s, r, "cannot list threads of pid %d: %s", s->tgt->pid,
				   strerror(-err));
	free(s->thread_list);
	s->thread_list = calloc(n ? n : 1, sizeof(*s->thread_list));
	if (!s->thread_list) {
		free(th);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		s->thread_list[i] = th[i].tid;
	s->thread_count = n;
	s->thread_next = 0;
	free(th);
	return h_sthreadinfo(ctx, a, len, r);
}

static const char *state_name(char st)
{
	switch (st) {
	case 'R':
		return "running";
	case 'S':
		return "sleeping";
	case 'D':
		return "disk sleep";
	case 'Z':
		return "zombie";
	default:
		return "other";
	}
}

static int h_thread_extra(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct tgt_thread *th = NULL;
	struct rsp_tid t;
	size_t n = 0, i;
	char text[96] = "";
	pid_t tid;

	if (rsp_parse_tid(a, len, &t))
		return sess__error(s, r, "malformed thread id");
	tid = resolve_tid(s, &t);
	if (tid && tgt__threads(s->tgt, &th, &n) == 0) {
		for (i = 0; i < n; i++)
			if (th[i].tid == tid)
				snprintf(text, sizeof(text), "Name: %s, %s, never stopped",
					 th[i].name, state_name(th[i].state));
		free(th);
	}
	if (!text[0])
		return sess__error(s, r, "no such thread");
	return rsp_buf__put_hex_str(r, text);
}

static int h_thread_alive(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_tid t;

	if (rsp_parse_tid(a, len, &t))
		return sess__error(s, r, "malformed thread id");
	if (!resolve_tid(s, &t))
		return rsp_buf__puts(r, "E01");
	return rsp_buf__puts(r, "OK");
}

static int h_set_thread(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_tid t;
	pid_t tid;

	if (len < 2 || rsp_parse_tid(a + 1, len - 1, &t))
		return sess__error(s, r, "malformed H packet");
	tid = resolve_tid(s, &t);
	if (!tid)
		return rsp_buf__puts(r, "E01");
	if (a[0] == 'g')
		s->g_tid = tid;
	return rsp_buf__puts(r, "OK");
}

/* ---- registers ---------------------------------------------------------- */

static pid_t reg_thread(struct sess *s, const struct rsp_thread_suffix *sfx)
{
	pid_t tid = 0;

	if (sfx && sfx->present)
		tid = resolve_tid(s, &sfx->tid);
	else if (s->g_tid && tgt__has_thread(s->tgt, s->g_tid))
		tid = s->g_tid;
	return tid ? tid : s->tgt->pid;
}

/*
 * With a trace frame selected (s->frame >= 0), g, p and m answer from it
 * as tfind shows it: the frame view (stub/views/frame.h) of that frame.
 */
static int frame_regs(struct sess *s, int regno, struct rsp_buf *r)
{
	struct fview fv;
	int err;

	err = fview__open(&fv, s->tr, s->tgt, (size_t)s->frame);
	if (err)
		return err;
	err = fview__regs(&fv, regno, r);
	fview__close(&fv);
	return err;
}

static ssize_t frame_mem(struct sess *s, uint64_t addr, void *buf, size_t len)
{
	struct fview fv;
	ssize_t n;

	if (fview__open(&fv, s->tr, s->tgt, (size_t)s->frame))
		return -ENOENT;
	n = fview__mem(&fv, addr, buf, len);
	fview__close(&fv);
	return n;
}

static int h_g(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_thread_suffix sfx;
	uint64_t pc, sp;
	bool have_sp;
	unsigned i;
	pid_t tid;

	if (rsp_parse_thread_suffix(a, len, &sfx))
		return sess__error(s, r, "malformed g packet");
	if (s->frame >= 0)
		return frame_regs(s, -1, r);
	if (s->lldb)
		return sess__error(s, r, "registers of a running thread are unknown; use p");
	tid = reg_thread(s, &sfx);
	thread_pc_sp(s, tid, &pc, &sp, &have_sp);
	for (i = 0; i < AMD64_NUM; i++) {
		unsigned size = regs_desc(i)->bits / 8;

		if (i == AMD64_RIP)
			rsp_buf__put_le_hex(r, pc, 8);
		else if (i == AMD64_RSP && have_sp)
			rsp_buf__put_le_hex(r, sp, 8);
		else
			rsp_buf__put_unavail(r, size);
	}
	return 0;
}

static int h_p(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	const struct reg_desc *d;
	struct rsp_reg_req req;
	uint64_t pc, sp;
	bool have_sp;
	pid_t tid;

	if (rsp_parse_p(a, len, &req))
		return sess__error(s, r, "malformed p packet");
	d = regs_desc(req.regno > AMD64_NUM ? AMD64_NUM : (unsigned)req.regno);
	if (!d)
		return sess__error(s, r, "no register %llu", (unsigned long long)req.regno);
	if (s->frame >= 0)
		return frame_regs(s, (int)req.regno, r);
	tid = reg_thread(s, &req.thread);
	thread_pc_sp(s, tid, &pc, &sp, &have_sp);
	if (req.regno == AMD64_RIP)
		return rsp_buf__put_le_hex(r, pc, 8);
	if (req.regno == AMD64_RSP && have_sp)
		return rsp_buf__put_le_hex(r, sp, 8);
	if (s->lldb)
		return sess__error(s, r, "%s of a running thread is unknown", d->name);
	return rsp_buf__put_unavail(r, d->bits / 8);
}

/* ---- memory ------------------------------------------------------------- */

static int read_mem_checked(struct sess *s, const char *a, size_t len, struct rsp_buf *r,
			    void **buf, ssize_t *got)
{
	struct rsp_mem_req m;

	*buf = NULL;
	*got = 0;
	if (rsp_parse_mem(a, len, &m))
		return sess__error(s, r, "malformed memory read");
	if (m.len > MEM_READ_MAX)
		m.len = MEM_READ_MAX;
	if (m.len == 0)
		return 1;
	*buf = malloc(m.len);
	if (!*buf)
		return -ENOMEM;
	if (s->frame >= 0) {
		*got = frame_mem(s, m.addr, *buf, m.len);
	} else {
		*got = tgt__read_mem(s->tgt, m.addr, *buf, m.len);
		/* Show the code as it is, not the int3 of an installed probe. */
		if (*got > 0)
			tr__unpatch(s->tr, m.addr, *buf, (size_t)*got);
	}
	if (*got < 0) {
		/* GDB's 'm' takes only E<hex>: it says "Cannot access memory". */
		if (s->opts && s->opts->verbose)
			fprintf(stderr, "bpfstub: cannot read 0x%llx in pid %d: %s\n",
				(unsigned long long)m.addr, s->tgt->pid, strerror((int)-*got));
		rsp_buf__puts(r, "E01");
		free(*buf);
		*buf = NULL;
		return 0;
	}
	return 1;
}

static int h_m(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	void *buf;
	ssize_t got;
	int err = read_mem_checked(ctx, a, len, r, &buf, &got);

	if (err <= 0)
		return err;
	if (got)
		rsp_buf__put_hex(r, buf, (size_t)got);
	else
		rsp_buf__puts(r, "E01");
	free(buf);
	return 0;
}

/* Binary read: LLDB's 'x' (raw bytes; "x0,0" probes support and gets OK). */
static int h_x(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	void *buf;
	ssize_t got;
	int err = read_mem_checked(ctx, a, len, r, &buf, &got);

	if (err <= 0)
		return err;
	if (!buf)
		return rsp_buf__puts(r, "OK");
	rsp_buf__put(r, buf, (size_t)got);
	free(buf);
	return 0;
}

static int h_refuse_write(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	return sess__error(s, r,
			   "bpfstub never writes to the target (memory, registers or "
			   "breakpoints would need it stopped); use tracepoints");
}

/*
 * The one write acknowledged, and still not done: GDB raising or lowering
 * the semaphore of an SDT probe a tracepoint is on, which the kernel
 * already does through the uprobe's reference counter (stub/program/sdt.h).
 */
static int h_M(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_write_req w;

	if (!rsp_parse_write(a, len, &w) && sdt__semaphore_write(s->tr, &w, true))
		return rsp_buf__puts(r, "OK");
	return h_refuse_write(ctx, a, len, r);
}

/* 'X' with no data is GDB's probe for binary writes; say yes, write nothing. */
static int h_X(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	struct rsp_write_req w;

	if (rsp_parse_write(a, len, &w))
		return sess__error(s, r, "malformed X packet");
	if (w.len == 0 && w.data_len == 0)
		return rsp_buf__puts(r, "OK");
	if (sdt__semaphore_write(s->tr, &w, false)) /* as h_M */
		return rsp_buf__puts(r, "OK");
	return h_refuse_write(ctx, a, len, r);
}

/*
 * Z0-Z4/z0-z4.  GDB keeps a breakpoint whose insertion failed, whatever the
 * reply (empty, E01, E.<text>), and then aborts every resume ("Command
 * aborted."), in non-stop even its own resume after a tracepoint edit.
 * So GDB's breakpoints are accepted and never fire: nothing is written, and
 * the answer to the next resume says so.  LLDB copes with a refusal (the
 * breakpoint stays unresolved), so it still gets one.
 */
static int h_breakpoint(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t v[3];

	/* type,addr,kind: no conditions or commands (not advertised). */
	if (rsp_parse_hex_list(a, len, ',', v, 3) || v[0] > 4)
		return sess__error(s, r, "malformed breakpoint packet");
	if (s->lldb)
		return h_refuse_write(ctx, a, len, r);
	return rsp_buf__puts(r, "OK");
}

/* ---- execution control -------------------------------------------------- */

static int refuse_step(struct sess *s, struct rsp_buf *r)
{
	return sess__error(s, r,
			   "single-stepping would stop the target; bpfstub never stops it "
			   "(use tracepoints)");
}

/*
 * An all-stop resume (c, C, vCont;c).  The target was never stopped, so
 * there is nothing to resume.  GDB gets a SIGINT stop at once: while GDB
 * believes the target runs it refuses -trace-status, tstop, tsave and every
 * expression, and Eclipse CDT turns tracing off for the session at the
 * first such error.  SIGINT is what IDEs take for a finished "pause"
 * (MIEngine's IsAsyncBreakSignal; CDT shows "Suspended"); T05 could look
 * like a hit of an accepted breakpoint, T00 is shown as an exception.
 * LLDB, which has no tracepoints, keeps the old way: silent until 0x03.
 * With `monitor tlive on`, GDB too stays in the resume until 0x03, and each
 * new frame is printed on the console meanwhile (stub/serve/tlive.c).
 */
static int h_continue(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (s->lldb || s->tlive) {
		if (s->tlive && !s->lldb)
			sess__console(s, "bpfstub: tlive: each hit is printed as it is collected; "
					 "interrupt (Ctrl-C) to get the prompt back.\n");
		s->running = true;
		s->nsnap = 0;
		tlive__start(s);
		return 0;
	}
	sess__console(s, "bpfstub: the target never stops, so it runs on: tracepoints keep "
			 "collecting, breakpoints never fire. Reported as stopped by SIGINT "
			 "so that GDB takes commands.\n");
	s->running = false;
	return stop_reply(s, r, 2);
}

static int h_step(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	return refuse_step(s, r);
}

/* Fast tracepoints fit anywhere: a uprobe is the same on any instruction. */
static int h_min_ftpi_len(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return rsp_buf__puts(r, len ? "" : "1");
}

static int h_vcont_query(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return rsp_buf__puts(r, "vCont;c;C;t");
}

static int h_vcont(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct rsp_vcont v;
	bool stop = false;
	size_t i;

	if (rsp_parse_vcont(a, len, &v))
		return sess__error(s, r, "malformed vCont");
	for (i = 0; i < v.n; i++) {
		switch (v.a[i].action) {
		case 's':
		case 'S':
		case 'r':
			return refuse_step(s, r);
		case 't':
			stop = true;
			break;
		default:
			break;
		}
	}
	if (!s->nonstop) {
		if (stop)
			return sess__error(s, r, "vCont;t is for non-stop mode");
		return h_continue(s, a, len, r);
	}
	rsp_buf__puts(r, "OK");
	if (stop) {
		/*
		 * Every vCont;t gets a stop notification with a PC: the first
		 * makes GDB relocate a PIE and load the shared libraries (then it
		 * resumes the thread itself); later ones are an IDE's interrupt
		 * before a breakpoint edit, which waits for the stop.
		 */
		pid_t tid = 0;

		for (i = 0; i < v.n && !tid; i++)
			if (v.a[i].action == 't' && v.a[i].has_tid)
				tid = resolve_tid(s, &v.a[i].tid);
		queue_stop_notification(s, tid ? tid : s->tgt->pid);
	}
	return 0;
}

static int h_vstopped(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return rsp_buf__puts(r, "OK");
}

static int h_nonstop(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	if (len != 1 || (a[0] != '0' && a[0] != '1'))
		return sess__error(s, r, "malformed QNonStop");
	s->nonstop = a[0] == '1';
	s->running = false;
	return rsp_buf__puts(r, "OK");
}

static int h_detach(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t pid;

	if (len && (a[0] != ';' || rsp_parse_hex_u64(a + 1, len - 1, &pid)))
		return sess__error(s, r, "malformed D packet");
	if (len && pid != (uint64_t)s->tgt->pid)
		return sess__error(s, r, "not attached to pid %llu", (unsigned long long)pid);
	/* Nothing was ever stopped or changed: the process simply runs on. */
	s->close_after_reply = true;
	return rsp_buf__puts(r, "OK");
}

static int kill_request(struct sess *s, struct rsp_buf *r)
{
	if (s->tgt->launched && tgt__alive(s->tgt)) {
		kill(s->tgt->pid, SIGKILL);
		s->quit_after_close = true;
	}
	/* An attached process is never killed: bpfstub only detaches. */
	s->close_after_reply = true;
	return rsp_buf__puts(r, "OK");
}

static int h_kill(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	return kill_request(ctx, r);
}

/*
 * vKill of an attached process: OK, nothing killed, and the connection stays
 * (extended-remote GDB follows it with vAttach, as VS Code's attach does).
 */
static int h_vkill(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t pid;

	if (rsp_parse_hex_u64(a, len, &pid))
		return sess__error(s, r, "malformed vKill");
	if (pid != (uint64_t)s->tgt->pid)
		return sess__error(s, r, "not attached to pid %llu", (unsigned long long)pid);
	if (s->tgt->launched)
		return kill_request(s, r);
	fprintf(stderr, "bpfstub: kill request for pid %d: not killed, it keeps running\n",
		s->tgt->pid);
	s->running = false;
	return rsp_buf__puts(r, "OK");
}

/* vAttach to the process bpfstub serves: its stop reply; any other pid: refused. */
static int h_vattach(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	uint64_t pid;

	if (rsp_parse_hex_u64(a, len, &pid) || pid != (uint64_t)s->tgt->pid)
		return sess__error(s, r,
				   "bpfstub serves pid %d only; start another bpfstub to attach",
				   s->tgt->pid);
	s->running = false;
	if (!s->nonstop)
		return stop_reply(s, r, 5);
	queue_stop_notification(s, s->tgt->pid);
	return rsp_buf__puts(r, "OK");
}

static int h_vrun(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	return sess__error(s, r, "bpfstub serves pid %d only; start another bpfstub to run",
			   s->tgt->pid);
}

/* ---- LLDB --------------------------------------------------------------- */

static const char triple[] = "x86_64-pc-linux-gnu";

static int h_error_strings(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;

	s->error_strings = true;
	return rsp_buf__puts(r, "OK");
}

static int h_qhostinfo(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	char host[256] = "";

	s->lldb = true;
	gethostname(host, sizeof(host) - 1);
	rsp_buf__puts(r, "triple:");
	rsp_buf__put_hex_str(r, triple);
	rsp_buf__puts(r, ";ptrsize:8;endian:little;ostype:linux;vendor:pc;hostname:");
	rsp_buf__put_hex_str(r, host);
	return rsp_buf__putc(r, ';');
}

static int h_qprocessinfo(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d", s->tgt->pid);
	if (stat(path, &sb))
		return sess__error(s, r, "pid %d is gone", s->tgt->pid);
	rsp_buf__printf(r,
			"pid:%x;parent-pid:%x;real-uid:%x;real-gid:%x;effective-uid:%x;"
			"effective-gid:%x;triple:",
			(unsigned)s->tgt->pid, (unsigned)getppid(), (unsigned)sb.st_uid,
			(unsigned)sb.st_gid, (unsigned)sb.st_uid, (unsigned)sb.st_gid);
	rsp_buf__put_hex_str(r, triple);
	return rsp_buf__puts(r, ";ostype:linux;endian:little;ptrsize:8;");
}

static int h_qmemoryregioninfo(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	struct tgt_map m;
	uint64_t addr;
	int err;

	if (len == 0)
		return rsp_buf__puts(r, "OK"); /* the probe: supported */
	if (a[0] != ':' || rsp_parse_hex_u64(a + 1, len - 1, &addr))
		return sess__error(s, r, "malformed qMemoryRegionInfo");
	err = tgt__region(s->tgt, addr, &m);
	if (err)
		return sess__error(s, r, "cannot read the maps of pid %d: %s", s->tgt->pid,
				   strerror(-err));
	rsp_buf__printf(r, "start:%llx;size:%llx;", (unsigned long long)m.start,
			(unsigned long long)(m.end - m.start));
	if (m.perms[0]) {
		rsp_buf__puts(r, "permissions:");
		if (m.perms[0] == 'r')
			rsp_buf__putc(r, 'r');
		if (m.perms[1] == 'w')
			rsp_buf__putc(r, 'w');
		if (m.perms[2] == 'x')
			rsp_buf__putc(r, 'x');
		rsp_buf__putc(r, ';');
	}
	if (m.path[0]) {
		rsp_buf__puts(r, "name:");
		rsp_buf__put_hex_str(r, m.path);
		rsp_buf__putc(r, ';');
	}
	return 0;
}

/* ---- monitor: the commands are stub/serve/monitor.c's ----------------------- */

static int h_rcmd(void *ctx, const char *a, size_t len, struct rsp_buf *r)
{
	struct sess *s = ctx;
	char line[RSP_MON_LINE_MAX + 1];

	if (rsp_parse_hex_string(a, len, line, sizeof(line)))
		return sess__error(s, r, "malformed monitor command (hex, at most %d bytes)",
				   RSP_MON_LINE_MAX);
	mon__run(s, line);
	return rsp_buf__puts(r, "OK");
}

/* ---- the table ---------------------------------------------------------- */

static const struct rsp_handler handlers[] = {
	{"qSupported", NULL, h_qsupported},
	{"QStartNoAckMode", "QStartNoAckMode+", h_noack},
	{"qAttached", NULL, h_qattached},
	{"qC", NULL, h_qc},
	{"?", NULL, h_stop_reason},
	{"qfThreadInfo", NULL, h_fthreadinfo},
	{"qsThreadInfo", NULL, h_sthreadinfo},
	{"qThreadExtraInfo,", NULL, h_thread_extra},
	{"T", NULL, h_thread_alive},
	{"H", NULL, h_set_thread},
	{"g", NULL, h_g},
	{"G", NULL, h_refuse_write},
	{"p", NULL, h_p},
	{"P", NULL, h_refuse_write},
	{"m", NULL, h_m},
	{"x", NULL, h_x},
	{"M", NULL, h_M},
	{"X", NULL, h_X},
	{"Z", NULL, h_breakpoint},
	{"z", NULL, h_breakpoint},
	{"c", NULL, h_continue},
	{"C", NULL, h_continue},
	{"s", NULL, h_step},
	{"S", NULL, h_step},
	{"vCont?", NULL, h_vcont_query},
	{"vCont;", NULL, h_vcont},
	{"QNonStop:", "QNonStop+", h_nonstop},
	{"vStopped", NULL, h_vstopped},
	{"D", NULL, h_detach},
	{"k", NULL, h_kill},
	{"vKill;", "multiprocess+", h_vkill},
	{"vAttach;", NULL, h_vattach},
	{"vRun;", NULL, h_vrun},
	{"qXfer:features:read:", "qXfer:features:read+", hdl__xfer_features},
	{"qXfer:auxv:read:", "qXfer:auxv:read+", hdl__xfer_auxv},
	{"qXfer:exec-file:read:", "qXfer:exec-file:read+", hdl__xfer_exec_file},
	{"qXfer:libraries-svr4:read:", "qXfer:libraries-svr4:read+", hdl__xfer_libraries},
	{"qXfer:threads:read:", "qXfer:threads:read+", hdl__xfer_threads},
	{"qXfer:osdata:read:", "qXfer:osdata:read+", hdl__xfer_osdata},
	{"vFile:setfs:", NULL, hdl__vfile_setfs},
	{"vFile:open:", NULL, hdl__vfile_open},
	{"vFile:pread:", NULL, hdl__vfile_pread},
	{"vFile:close:", NULL, hdl__vfile_close},
	{"vFile:fstat:", NULL, hdl__vfile_fstat},
	{"qSymbol:", NULL, h_ok},
	{"QThreadSuffixSupported", NULL, h_thread_suffix},
	{"QListThreadsInStopReply", NULL, h_ok},
	{"QEnableErrorStrings", NULL, h_error_strings},
	{"qHostInfo", NULL, h_qhostinfo},
	{"qProcessInfo", NULL, h_qprocessinfo},
	{"qMemoryRegionInfo", NULL, h_qmemoryregioninfo},
	{"qRcmd,", NULL, h_rcmd},
	{"qXfer:traceframe-info:read:", "qXfer:traceframe-info:read+", hdl__xfer_traceframe},
	{"QTinit", NULL, hdl__qtinit},
	{"QTDP:", "InstallInTrace+;ConditionalTracepoints+;tracenz+", hdl__qtdp},
	{"qTMinFTPILen", "FastTracepoints+", h_min_ftpi_len},
	{"QTDPsrc:", "TracepointSource+", hdl__qtdpsrc},
	{"QTDV:", "TraceStateVariables+", hdl__qtdv},
	{"QTro", NULL, hdl__qtro},
	{"QTDisconnected:", "DisconnectedTracing+", hdl__qtdisconnected},
	{"QTBuffer:", "QTBuffer:size+", hdl__qtbuffer},
	{"QTNotes:", NULL, hdl__qtnotes},
	{"QTStart", NULL, hdl__qtstart},
	{"QTStop", NULL, hdl__qtstop},
	{"qTStatus", NULL, hdl__qtstatus},
	{"qTP:", NULL, hdl__qtp},
	{"QTEnable:", "EnableDisableTracepoints+", hdl__qtenable},
	{"QTDisable:", NULL, hdl__qtdisable},
	{"qTfV", NULL, hdl__qtfv},
	{"qTsV", NULL, hdl__qtsv},
	{"qTV:", NULL, hdl__qtv},
	{"QTFrame:", NULL, hdl__qtframe},
	{"qTfP", NULL, hdl__qtfp},
	{"qTsP", NULL, hdl__qtsp},
	{"qTBuffer:", NULL, hdl__qtbuffer_read},
	{"QTSave:", NULL, hdl__qtsave},
};

#define NHANDLERS (sizeof(handlers) / sizeof(handlers[0]))

/* The qSupported reply, from the table: bpfstub advertises what it implements. */
static int supported(struct rsp_buf *out)
{
	return rsp_dispatch__supported(handlers, NHANDLERS, SESS_PACKET_SIZE, out);
}

/* Find and run the handler; an unknown packet leaves reply empty. */
static int dispatch(struct sess *s, const char *pkt, size_t len, struct rsp_buf *reply)
{
	const struct rsp_handler *h;
	size_t name_len;
	int err;

	h = rsp_dispatch__find(handlers, NHANDLERS, pkt, len, &name_len);
	if (!h)
		return 0; /* unknown: the empty reply */
	err = h->fn(s, pkt + name_len, len - name_len, reply);
	if (err && !reply->len)
		sess__error(s, reply, "%s", strerror(-err));
	return 0;
}

int hdl__packet(struct sess *s, const char *pkt, size_t len)
{
	struct rsp_buf reply;
	bool was_running = s->running;
	int err;

	sess__log(s, "<-", pkt, len);
	rsp_buf__init(&reply);
	err = dispatch(s, pkt, len, &reply);
	if (reply.oom) {
		rsp_buf__reset(&reply);
		rsp_buf__puts(&reply, "E.out of memory");
	}
	/* A resume in all-stop is answered only by the stop that 0x03 brings. */
	if (!err && !(s->running && !was_running && !reply.len))
		err = sess__send(s, '$', reply.data ? reply.data : "", reply.len);
	if (!err && s->notify.len) {
		err = sess__send(s, '%', s->notify.data, s->notify.len);
		rsp_buf__reset(&s->notify);
	}
	rsp_buf__free(&reply);
	return err;
}

int hdl__interrupt(struct sess *s)
{
	struct rsp_buf r;
	int err;

	sess__log(s, "<-", "\\x03", 4);
	if (s->nonstop || !s->running)
		return 0;
	s->running = false;
	rsp_buf__init(&r);
	stop_reply(s, &r, 2);
	err = r.oom ? -ENOMEM : sess__send(s, '$', r.data, r.len);
	rsp_buf__free(&r);
	return err;
}
