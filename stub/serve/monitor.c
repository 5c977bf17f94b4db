/* SPDX-License-Identifier: MIT */
/*
 * stub/serve/monitor.c - bpfstub's `monitor` commands, in one table.
 *
 * GDB's `monitor LINE`, GDB/MI's `-interpreter-exec console "monitor
 * LINE"` and LLDB's `process plugin packet monitor LINE` all send
 * qRcmd,<hex of LINE>.  The line is split into words (rsp/monitor.c), the
 * row whose name (one or more words) the line starts with runs with the
 * words after the name, and the reply is its console output then OK.  The
 * same table is `monitor help`, so a command cannot be missing from it.
 *
 * Settings (`monitor set NAME VALUE`, `monitor show`) are rows of a second
 * table: a setting is a uint32_t in struct trace with bounds and a default
 * (stub/trace/trace.h), and applies to tracepoints installed after the change.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"
#include "rsp/monitor.h"
#include "stub/program/debuginfo.h"
#include "stub/program/program.h"
#include "stub/program/tgtns.h"
#include "stub/serve/monitor.h"
#include "stub/serve/privs.h"
#include "stub/serve/server.h"
#include "stub/serve/session.h"
#include "stub/trace/audit_trace.h"
#include "stub/trace/deep.h"
#include "stub/trace/guard.h"
#include "stub/trace/histo.h"
#include "stub/trace/montrace.h"
#include "stub/trace/retprobe.h"
#include "stub/trace/trace.h"
#include "stub/views/ctf.h"
#include "stub/views/tdump.h"
#include "stub/views/thist.h"

struct mon_cmd {
	const char *name;  /* words, single spaces */
	const char *usage; /* the arguments, "" for none */
	const char *help;  /* one line */
	size_t min_args, max_args;
	/* Words l->argv[arg..argc) are the arguments.  -errno with msg set: an error line. */
	int (*fn)(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg, size_t mlen);
};

/* ---- settings ----------------------------------------------------------- */

enum mon_kind {
	MK_BYTES,    /* off|BYTES (512, 4k, 0x200) */
	MK_WINDOW,   /* off|fp|BYTES: fp is TR_STACK_WINDOW_FP */
	MK_BUDGET,   /* off|N, N > 0: a budget of the overhead guard */
	MK_PERCENT,  /* off|N[%], N > 0 */
	MK_NS,	     /* auto (= 0: measured) | N > 0 */
	MK_DURATION, /* off|N[s|m|h|d] */
	MK_ONOFF,    /* on (= 1) | off */
	MK_BIAS,     /* auto (= 0: measured) | off (TR_LAT_BIAS_OFF) | N ns (0: off) */
};

static const struct mon_setting {
	const char *name;
	size_t field; /* offsetof a uint32_t in struct trace */
	enum mon_kind kind;
	uint32_t max, dflt;
	const char *what; /* "<value> <what>" in show and status */
} settings[] = {
	{"deep-collect", offsetof(struct trace, deep_budget), MK_BYTES, TR_DEEP_BUDGET_MAX,
	 TR_DEEP_BUDGET_DEFAULT, "bytes per hit of what the arguments point to (DWARF)"},
	{"stack-window", offsetof(struct trace, stack_window), MK_WINDOW, TR_STACK_WINDOW_MAX,
	 TR_STACK_WINDOW_DEFAULT, "bytes of stack above rsp per frame, for bt in tfind"},
	{"always-regs", offsetof(struct trace, always_regs), MK_ONOFF, 1, TR_ALWAYS_REGS_DEFAULT,
	 "registers in every frame of a GDB tracepoint, whatever its actions"},
	{"max-hit-rate", offsetof(struct trace, max_hit_rate), MK_BUDGET, TR_MAX_HIT_RATE_MAX,
	 TR_MAX_HIT_RATE_DEFAULT, "hits/s per tracepoint before the overhead guard detaches it"},
	{"max-overhead", offsetof(struct trace, max_overhead), MK_PERCENT, TR_MAX_OVERHEAD_MAX,
	 TR_MAX_OVERHEAD_DEFAULT,
	 "of the target's CPU per tracepoint before the overhead guard detaches it"},
	{"hit-cost", offsetof(struct trace, hit_cost_ns), MK_NS, TR_HIT_COST_MAX, 0,
	 "ns per hit, what the CPU estimate takes a hit to cost"},
	{"latency-bias", offsetof(struct trace, lat_bias), MK_BIAS, TR_LAT_BIAS_MAX, 0,
	 "ns subtracted from a return tracepoint's $latency_ns (the probes' own cost)"},
	{"trace-timeout", offsetof(struct trace, trace_timeout), MK_DURATION, TR_TRACE_TIMEOUT_MAX,
	 TR_TRACE_TIMEOUT_DEFAULT, "after which a run nobody stopped ends by itself"},
	{"debuginfod", offsetof(struct trace, debuginfod), MK_DURATION, TR_DEBUGINFOD_MAX,
	 TR_DEBUGINFOD_DEFAULT,
	 "at most per debug file asked of the servers in DEBUGINFOD_URLS (blocks the server)"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static const struct mon_setting *setting_find(const char *name)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		if (!strcmp(name, settings[i].name))
			return &settings[i];
	return NULL;
}

static uint32_t *setting_ptr(struct trace *tr, const struct mon_setting *st)
{
	return (uint32_t *)((char *)tr + st->field);
}

int mon__parse_setting(const char *name, const char *word, const char *what, uint32_t *out,
		       char *msg, size_t mlen)
{
	const struct mon_setting *st = setting_find(name);
	char num[48];
	uint64_t v;
	size_t n;
	int err;

	if (!st) {
		snprintf(msg, mlen, "no setting '%.60s'", name);
		return -ENOENT;
	}
	switch (st->kind) {
	case MK_BYTES:
		err = rsp_mon_number(word, what, true, true, 0, st->max, &v, msg, mlen);
		break;
	case MK_WINDOW:
		v = TR_STACK_WINDOW_FP;
		if (strcmp(word, "fp")) {
			err = rsp_mon_number(word, what, true, true, 0, st->max, &v, msg, mlen);
			if (err == -EINVAL)
				snprintf(msg, mlen,
					 "%s: '%.60s' is not a size (off, fp or BYTES, e.g. 512 or "
					 "4k)",
					 what, word);
		} else {
			err = 0;
		}
		break;
	case MK_DURATION:
		v = st->dflt; /* on: the default */
		err = strcmp(word, "on") ? rsp_mon_duration(word, what, 1, st->max, &v, msg, mlen)
					 : 0;
		break;
	case MK_ONOFF:
		v = !strcmp(word, "on");
		err = 0;
		if (!v && strcmp(word, "off")) {
			snprintf(msg, mlen, "%s: '%.60s' is not on or off", what, word);
			err = -EINVAL;
		}
		break;
	case MK_NS:
		v = 0;
		err = strcmp(word, "auto")
			      ? rsp_mon_number(word, what, false, false, 1, st->max, &v, msg, mlen)
			      : 0;
		break;
	case MK_BIAS:
		v = !strcmp(word, "off") ? TR_LAT_BIAS_OFF : 0;
		err = 0;
		if (strcmp(word, "auto") && strcmp(word, "off")) {
			err = rsp_mon_number(word, what, false, false, 0, st->max, &v, msg, mlen);
			if (!err && !v)
				v = TR_LAT_BIAS_OFF;
		}
		break;
	default:
		/* A budget: off, or a positive number (20 or 20% for a share). */
		snprintf(num, sizeof(num), "%.46s", word);
		n = strlen(num);
		if (st->kind == MK_PERCENT && n > 1 && num[n - 1] == '%')
			num[n - 1] = '\0';
		v = 0;
		err = strcmp(word, "off")
			      ? rsp_mon_number(num, what, false, false, 1, st->max, &v, msg, mlen)
			      : 0;
		break;
	}
	if (!err)
		*out = (uint32_t)v;
	return err;
}

int mon__store_setting(struct trace *tr, const char *name, uint32_t v)
{
	const struct mon_setting *st = setting_find(name);

	if (!st)
		return -ENOENT;
	*setting_ptr(tr, st) = v;
	return 0;
}

static void show_setting(struct sess *s, const struct mon_setting *st)
{
	uint32_t v = *setting_ptr(s->tr, st);
	char d[32];

	if (st->kind == MK_BIAS) {
		const struct trace *tr = s->tr;

		if (v == TR_LAT_BIAS_OFF)
			sess__console(s, "%s: off: nothing subtracted from $latency_ns\n",
				      st->name);
		else if (v)
			sess__console(s, "%s: %u %s\n", st->name, v, st->what);
		else if (tr->lat_bias_measured[1])
			sess__console(
				s,
				"%s: auto: %llu ns at a single-stepped entry, %llu ns at an "
				"emulated one (measured on this kernel), subtracted from a return "
				"tracepoint's $latency_ns\n",
				st->name, (unsigned long long)tr->lat_bias_measured[1],
				(unsigned long long)tr->lat_bias_measured[0]);
		else if (tr->lat_bias_msg[0])
			sess__console(s, "%s: auto, but not measured (%s): nothing subtracted\n",
				      st->name, tr->lat_bias_msg);
		else
			sess__console(s,
				      "%s: auto, measured when a return tracepoint is first "
				      "installed\n",
				      st->name);
		return;
	}
	if (!v && st->kind == MK_NS) {
		/* auto: what was measured on this kernel, or why not. */
		if (s->tr->hit_cost_measured)
			sess__console(s, "%s: auto, %u %s (measured on this kernel)\n", st->name,
				      s->tr->hit_cost_measured, st->what);
		else if (s->tr->hit_cost_msg[0])
			sess__console(s, "%s: auto, but not measured (%s): %u %s\n", st->name,
				      s->tr->hit_cost_msg, TR_HIT_COST_DEFAULT, st->what);
		else
			sess__console(s,
				      "%s: auto, measured at the first tstart (%u ns until then)\n",
				      st->name, TR_HIT_COST_DEFAULT);
		return;
	}
	if (!v) {
		sess__console(s, "%s: off\n", st->name);
		return;
	}
	if (st->kind == MK_WINDOW && v == TR_STACK_WINDOW_FP) {
		sess__console(s,
			      "%s: fp: the frame-pointer chain (up to %u frames, walked in the "
			      "kernel) and %u bytes above rsp (%u where there is no chain), for bt "
			      "in tfind\n",
			      st->name, TR_FP_FRAMES, TR_FP_WINDOW, TR_FP_WIDE);
		return;
	}
	switch (st->kind) {
	case MK_ONOFF:
		sess__console(s, "%s: on: %s\n", st->name, st->what);
		return;
	case MK_DURATION:
		rsp_mon_fmt_duration(v, d, sizeof(d));
		break;
	case MK_PERCENT:
		snprintf(d, sizeof(d), "%u%%", v);
		break;
	default:
		snprintf(d, sizeof(d), "%u", v);
		break;
	}
	sess__console(s, "%s: %s %s\n", st->name, d, st->what);
}

static int mon_show(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		    size_t mlen)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		show_setting(s, &settings[i]);
	return 0;
}

static int mon_set(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg, size_t mlen)
{
	/* The row's name is "set NAME": the word before the value. */
	const struct mon_setting *st = setting_find(l->argv[arg - 1]);
	char what[64];
	uint32_t v;
	int err;

	if (!st)
		return -ENOENT; /* a row without a setting: a bug in the tables */
	snprintf(what, sizeof(what), "set %s", st->name);
	err = mon__parse_setting(st->name, l->argv[arg], what, &v, msg, mlen);
	if (err)
		return err;
	*setting_ptr(s->tr, st) = v;
	show_setting(s, st);
	if (tr__running(s->tr))
		sess__console(s, st->kind == MK_BYTES || st->kind == MK_WINDOW ||
						 st->kind == MK_ONOFF || st->kind == MK_BIAS
					 ? "(tracepoints installed from now on; those running keep "
					   "theirs)\n"
					 : "(applies to the running trace at once)\n");
	return 0;
}

/* ---- status ------------------------------------------------------------- */

static int mon_status(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		      size_t mlen)
{
	struct trace *tr = s->tr;
	struct tgt_thread *th = NULL;
	char exe[4096] = "?", privs[512], ns[32] = "", where[512];
	struct rsp_buf b;
	size_t n = 0, i;

	tgt__exe_path(s->tgt, exe, sizeof(exe));
	tgt__threads(s->tgt, &th, &n);
	free(th);
	tr__poll(tr);
	rsp_buf__init(&b);
	if (s->tgt->ns_pid)
		snprintf(ns, sizeof(ns), " (ns %d)", (int)s->tgt->ns_pid);
	sess__console(s, "target: pid %d%s (%s), %s, %zu threads, %s\n", s->tgt->pid, ns, exe,
		      s->tgt->launched ? "launched" : "attached", n,
		      tgt__alive(s->tgt) ? "running, never stopped" : "exited");
	if (tgtns__describe(s->tgt, where, sizeof(where)) > 0)
		sess__console(s, "container: %s\n", where);
	sess__console(s,
		      "client: %s, %s mode, %s thread ids\n"
		      "tracing: %s%s%s; %zu frames in a %zu-byte %s buffer (%zu bytes free)",
		      s->lldb ? "LLDB" : "GDB", s->nonstop ? "non-stop" : "all-stop",
		      s->multiprocess ? "multiprocess" : "plain", tr__state_name(tr->state),
		      tr->stop_msg[0] ? ": " : "", tr->stop_msg, tf_store__count(&tr->store),
		      tr->store.size, tr->circular ? "circular" : "linear",
		      tf_store__free(&tr->store));
	if (tr->lost)
		sess__console(s, "; %llu frames lost (buffer full)", (unsigned long long)tr->lost);
	privs__describe(privs, sizeof(privs));
	sess__console(s, "\n%s\n", privs);
	/* Several processes: which, where they collect, who hit most. */
	tr_procs__status(tr, &b);
	if (b.len) {
		sess__console(s, "%s", b.data);
		rsp_buf__reset(&b);
	}
	for (i = 0; i < tr->ntps; i++) {
		struct tp *tp = &tr->tps[i];
		struct bpfc_counts c;

		tr__counts(tr, tp, &c);
		sess__console(
			s,
			"  tracepoint %u at 0x%llx: %s%s, %llu hits, %llu frames collected, "
			"%llu dropped (ring buffer full)\n",
			tp->num, (unsigned long long)tp->addr, tp->enabled ? "enabled" : "disabled",
			tp->installed ? ", installed" : "", (unsigned long long)tr__hits(tr, tp),
			(unsigned long long)tp->frames, (unsigned long long)c.drops);
		/* Its hit rate and CPU share, or why the overhead guard detached it. */
		rsp_buf__reset(&b);
		guard__tp_status(tr, tp, &b);
		if (b.data && b.len)
			sess__console(s, "%s", b.data);
	}
	/* The buffer's fill rate; deep collection's own lines. */
	rsp_buf__reset(&b);
	guard__status(tr, &b);
	deep__status(tr, &b);
	retprobe__status(tr, &b);
	dbgi__status(tr->pgm ? tr->pgm->dbgi : NULL, tr->debuginfod, &b);
	if (b.data && b.len)
		sess__console(s, "%s", b.data);
	rsp_buf__free(&b);
	return mon_show(s, l, arg, msg, mlen);
}

/* ---- trace -return ------------------------------------------------------ */

static int mon_trace_return(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
			    size_t mlen)
{
	struct rsp_buf out;
	int err;

	rsp_buf__init(&out);
	err = retprobe__define(s->tr, &l->argv[arg], l->argc - arg, &out, msg, mlen);
	if (out.data)
		sess__console(s, "%s", out.data);
	rsp_buf__free(&out);
	return err;
}

/* ---- histograms: trace -hist, trace -count, thist (stub/trace/histo.c) ---------- */

static int mon_trace_hist(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
			  size_t mlen)
{
	struct rsp_buf out;
	int err;

	/* argv[arg - 1] is -hist or -count. */
	rsp_buf__init(&out);
	err = histo__define(s->tr, &l->argv[arg - 1], l->argc - arg + 1, &out, msg, mlen);
	if (out.data)
		sess__console(s, "%s", out.data);
	rsp_buf__free(&out);
	return err;
}

static void console_lines(struct sess *s, const char *text);

static int mon_thist(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		     size_t mlen)
{
	uint64_t num = 0;
	struct rsp_buf b;
	int err = 0;

	if (arg < l->argc && strcmp(l->argv[arg], "json")) {
		err = rsp_mon_number(l->argv[arg], "thist N", false, false, 1, 0xffff, &num, msg,
				     mlen);
		if (err)
			return err;
		arg++;
	}
	tr__poll(s->tr);
	if (arg < l->argc) {
		if (strcmp(l->argv[arg], "json") || arg + 2 != l->argc) {
			snprintf(msg, mlen, "usage: monitor thist [N] [json FILE]");
			return -EINVAL;
		}
		err = thist__save(s->tr, (uint32_t)num, s->opts->save_dirfd, s->opts->save_dir,
				  l->argv[arg + 1], msg, mlen);
		audit_tr__tsave(s->tr, "thist", l->argv[arg + 1], err, msg);
		if (!err)
			sess__console(s, "histograms written to %s\n", l->argv[arg + 1]);
		return err;
	}
	rsp_buf__init(&b);
	err = thist__text(s->tr, (uint32_t)num, &b, msg, mlen);
	if (!err)
		console_lines(s, b.data);
	rsp_buf__free(&b);
	return err;
}

/* ---- frames: tframes, tdump, tlive (stub/views/tdump.c, stub/serve/tlive.c) --- */

/* Text to the console one line per O packet (a client's packet size bounds one). */
static void console_lines(struct sess *s, const char *text)
{
	const char *nl;

	while (text && *text) {
		nl = strchr(text, '\n');
		if (!nl) {
			sess__console(s, "%s\n", text);
			return;
		}
		sess__console(s, "%.*s\n", (int)(nl - text), text);
		text = nl + 1;
	}
}

static int mon_tframes(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		       size_t mlen)
{
	uint64_t from = 0, count = 20;
	struct rsp_buf b;
	int err = 0;

	if (arg < l->argc)
		err = rsp_mon_number(l->argv[arg], "tframes FROM", false, false, 0, UINT32_MAX,
				     &from, msg, mlen);
	if (!err && arg + 1 < l->argc)
		err = rsp_mon_number(l->argv[arg + 1], "tframes COUNT", false, false, 1, UINT32_MAX,
				     &count, msg, mlen);
	if (err)
		return err;
	rsp_buf__init(&b);
	err = tdump__frames(s->tr, s->tgt, (size_t)from, (size_t)count, &b);
	console_lines(s, b.data);
	rsp_buf__free(&b);
	return err;
}

static int mon_tdump(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		     size_t mlen)
{
	uint64_t n = 0;
	struct rsp_buf b;
	int err = 0;

	if (arg < l->argc)
		err = rsp_mon_number(l->argv[arg], "tdump N", false, false, 0, INT32_MAX, &n, msg,
				     mlen);
	if (err)
		return err;
	rsp_buf__init(&b);
	err = tdump__frame(s->tr, s->tgt, arg < l->argc ? (long)n : -1, s->frame, &b, msg, mlen);
	console_lines(s, b.data);
	rsp_buf__free(&b);
	return err;
}

static int mon_tsave_ctf(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
			 size_t mlen)
{
	const char *name = l->argv[arg];
	size_t n;
	int err;

	tr__poll(s->tr);
	err = ctf__save(s->tr, s->tgt, s->opts->save_dirfd, s->opts->save_dir, name, &n, msg, mlen);
	audit_tr__tsave(s->tr, "ctf", name, err, msg);
	if (!err)
		sess__console(s, "CTF trace written to %s: %zu event%s (babeltrace2 %s)\n", name, n,
			      n == 1 ? "" : "s", name);
	return err;
}

static int mon_tlive(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		     size_t mlen)
{
	if (strcmp(l->argv[arg], "on") && strcmp(l->argv[arg], "off")) {
		snprintf(msg, mlen, "tlive takes on or off, not '%.60s'", l->argv[arg]);
		return -EINVAL;
	}
	s->tlive = !strcmp(l->argv[arg], "on");
	if (s->tlive && s->nonstop)
		sess__console(s, "tlive: on, but it streams only in all-stop mode\n");
	else
		sess__console(s, "tlive: %s\n",
			      s->tlive ? "on: a continue prints each hit until interrupted"
				       : "off");
	return 0;
}

/* ---- tracepoints (stub/trace/montrace.c) -------------------------------------- */

/* Print what fn wrote into a buffer to the console. */
static int to_console(struct sess *s, struct rsp_buf *b, int err)
{
	if (b->data && b->len)
		sess__console(s, "%s", b->data);
	rsp_buf__free(b);
	return err;
}

static int mon_trace(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		     size_t mlen)
{
	struct rsp_buf b;

	rsp_buf__init(&b);
	return to_console(s, &b, mt__trace(s->tr, l, arg, &b, msg, mlen));
}

static int mon_tdelete(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		       size_t mlen)
{
	struct rsp_buf b;

	rsp_buf__init(&b);
	return to_console(s, &b, mt__delete(s->tr, l->argv[arg], &b, msg, mlen));
}

static int mon_tstatus(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		       size_t mlen)
{
	struct rsp_buf b;

	rsp_buf__init(&b);
	return to_console(s, &b, mt__status(s->tr, &b));
}

static int mon_tstart(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		      size_t mlen)
{
	int err;

	if (!s->tr->ntps) {
		snprintf(msg, mlen, "no tracepoints to start; define one with 'monitor trace'");
		return -ENOENT;
	}
	err = tr__start(s->tr, msg, mlen);
	if (!err) {
		size_t i, n = 0;

		/* Tracepoints, not locations (a -return has one per ret). */
		for (i = 0; i < s->tr->ntps; i++)
			n += !i || s->tr->tps[i].num != s->tr->tps[i - 1].num;
		sess__console(s, "trace started: %zu tracepoint%s\n", n, n == 1 ? "" : "s");
	}
	return err;
}

static int mon_tstop(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		     size_t mlen)
{
	if (s->tr->state == TR_NOT_RUN) {
		snprintf(msg, mlen, "no trace is running");
		return -EINVAL;
	}
	if (!tr__running(s->tr)) {
		/* It ended by itself (target exited, buffer full, guard, timeout...). */
		sess__console(s, "trace stopped: %zu frames (it had already %s%s%s)\n",
			      tf_store__count(&s->tr->store), tr__state_name(s->tr->state),
			      s->tr->stop_msg[0] ? ": " : "", s->tr->stop_msg);
		return 0;
	}
	tr__stop(s->tr, TR_STOP_USER, 0, NULL);
	sess__console(s, "trace stopped: %zu frames\n", tf_store__count(&s->tr->store));
	return 0;
}

/* ---- help and the table ------------------------------------------------- */

static int mon_help(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		    size_t mlen);

static const struct mon_cmd cmds[] = {
	{"help", "[COMMAND]", "this list, or the commands that start with COMMAND", 0, 3, mon_help},
	{"status", "", "the target, the client, the trace run and the settings", 0, 0, mon_status},
	{"show", "", "the settings (monitor set ...)", 0, 0, mon_show},
	{"set deep-collect", "off|BYTES",
	 "bytes per hit collected from what a traced function's arguments point to "
	 "(0..16384, default 2048)",
	 1, 1, mon_set},
	{"set stack-window", "off|fp|BYTES",
	 "what of the hitting thread's stack each frame holds, so bt in tfind shows the "
	 "callers: fp (default) the frame-pointer chain and 512 bytes above rsp, or BYTES "
	 "above rsp (0..8192)",
	 1, 1, mon_set},
	{"set always-regs", "on|off",
	 "registers in every frame of a GDB tracepoint, whatever its actions (default on; off: "
	 "only where the actions collect them, as gdbserver)",
	 1, 1, mon_set},
	{"set max-hit-rate", "off|N",
	 "hits/s a tracepoint may take before the overhead guard detaches its uprobe "
	 "(1..10000000, default 20000; at once)",
	 1, 1, mon_set},
	{"set max-overhead", "off|PCT",
	 "estimated share of the target's CPU a tracepoint may cost before the guard "
	 "detaches it (1..100, default 40; at once)",
	 1, 1, mon_set},
	{"set hit-cost", "auto|NS",
	 "what one hit is taken to cost the target, for that estimate (default auto: "
	 "measured on this kernel at the first tstart)",
	 1, 1, mon_set},
	{"set latency-bias", "auto|off|NS",
	 "what a return tracepoint's own probes add to $latency_ns, subtracted in the kernel "
	 "(default auto: measured on this kernel when first needed, per kind of entry site)",
	 1, 1, mon_set},
	{"set trace-timeout", "off|DURATION",
	 "a run nobody stopped ends by itself after DURATION (90s, 30m, 2h; default 1h; "
	 "counted from tstart)",
	 1, 1, mon_set},
	{"set debuginfod", "on|off|DURATION",
	 "the longest a stripped file's debug info may be downloaded from the servers in "
	 "DEBUGINFOD_URLS, blocking the server (default 10s; off: never ask)",
	 1, 1, mon_set},
	{"trace", "LOCATION [if COND] [collect EXPR, ...]",
	 "a tracepoint at FUNC, FILE:LINE or *ADDR collecting EXPRs (default $args) whole", 1,
	 RSP_MON_WORDS_MAX, mon_trace},
	{"trace -return", "FUNC [if COND]",
	 "a tracepoint on every return instruction of FUNC (C name, Go main.f or "
	 "pkg.(*T).M): registers, return values and $latency_ns since the same thread's "
	 "(Go: goroutine's) entry",
	 1, RSP_MON_WORDS_MAX, mon_trace_return},
	{"trace -hist", "[-k K] [-keys N] FUNC|EXPR at LOCATION [if COND] [by EXPR]",
	 "FUNC's latency (entry to return), or EXPR's value at LOCATION, as a histogram "
	 "in the kernel: no frames; 2^K buckets per power of two (0..5, default 2); by EXPR: one "
	 "per key (an integer or a string; at most N keys, default 1024)",
	 1, RSP_MON_WORDS_MAX, mon_trace_hist},
	{"trace -count", "[-keys N] LOCATION [if COND] [by EXPR]",
	 "the hits at LOCATION counted in the kernel (per key with by): no frames", 1,
	 RSP_MON_WORDS_MAX, mon_trace_hist},
	{"thist", "[N] [json FILE]",
	 "histogram tracepoint N (default all) as bar charts with count, min, max, mean, p50, "
	 "p90, p99, p99.9; json FILE: written beneath --save-dir (as tsave -r); tlive on: "
	 "reprinted each second while continuing",
	 0, 3, mon_thist},
	{"tstart", "", "start the trace (GDB's and monitor tracepoints alike)", 0, 0, mon_tstart},
	{"tstop", "", "stop the trace; its frames stay", 0, 0, mon_tstop},
	{"tstatus", "", "the trace run, its frames and each tracepoint's hits", 0, 0, mon_tstatus},
	{"tdelete", "N|all", "delete tracepoint N (detached first when running), or all", 1, 1,
	 mon_tdelete},
	{"tframes", "[FROM [COUNT]]",
	 "one line per stored frame: time, thread, goroutine, tracepoint, arguments "
	 "(default 0 20)",
	 0, 2, mon_tframes},
	{"tdump", "[N]",
	 "every value of frame N, typed by DWARF (default: the tfind frame, else the last)", 0, 1,
	 mon_tdump},
	{"tsave-ctf", "NAME",
	 "the stored frames as a CTF 1.8 trace, the new directory NAME beneath --save-dir "
	 "(babeltrace2, Trace Compass): one event per frame with its tframes line, on a "
	 "clock of $trace_timestamp, so several nodes' traces merge by time",
	 1, 1, mon_tsave_ctf},
	{"tlive", "on|off",
	 "while the client continues (all-stop), print each hit as one line until interrupted "
	 "(at most 20 a second; default off)",
	 1, 1, mon_tlive},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

/* Does row c's name start with the words l->argv[from..argc)? */
static bool starts_with(const struct mon_cmd *c, const struct rsp_mon_line *l, size_t from)
{
	const char *p = c->name;
	size_t w;

	for (w = from; w < l->argc; w++) {
		size_t n = strlen(l->argv[w]);

		if (strncmp(p, l->argv[w], n) || (p[n] != ' ' && p[n] != '\0'))
			return false;
		p += n;
		while (*p == ' ')
			p++;
	}
	return true;
}

static int mon_help(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		    size_t mlen)
{
	size_t i, shown = 0;

	if (arg == l->argc)
		sess__console(s, "bpfstub monitor commands:\n");
	for (i = 0; i < NCMDS; i++) {
		char head[96];

		if (!starts_with(&cmds[i], l, arg))
			continue;
		snprintf(head, sizeof(head), "%s%s%s", cmds[i].name, cmds[i].usage[0] ? " " : "",
			 cmds[i].usage);
		if (strlen(head) > 31) /* a long usage: the help on the next line */
			sess__console(s, "  %s\n  %-31s %s\n", head, "", cmds[i].help);
		else
			sess__console(s, "  %-31s %s\n", head, cmds[i].help);
		shown++;
	}
	if (!shown) {
		snprintf(msg, mlen, "no monitor command starts with '%.60s'", l->argv[arg]);
		return -ENOENT;
	}
	if (arg == l->argc)
		sess__console(s, "bpfstub never stops the target: memory is read live, writes and "
				 "breakpoints are refused.\n");
	if (arg == l->argc && s->lldb)
		sess__console(s, "In LLDB, define a short name once (e.g. in ~/.lldbinit):\n"
				 "  command regex bpf 's/(.+)/process plugin packet monitor %%1/'\n"
				 "then: bpf trace main.handle, bpf tstart, bpf tdump ...\n");
	return 0;
}

/* The row with the longest name the line starts with. */
static const struct mon_cmd *cmd_find(const struct rsp_mon_line *l, size_t *nwords)
{
	const struct mon_cmd *best = NULL;
	size_t i, w;

	*nwords = 0;
	for (i = 0; i < NCMDS; i++) {
		w = rsp_mon_match(l, cmds[i].name);
		if (w > *nwords) {
			*nwords = w;
			best = &cmds[i];
		}
	}
	return best;
}

/* Run one command line; -errno with msg set on a mistake. */
static int run(struct sess *s, const struct rsp_mon_line *l, char *msg, size_t mlen)
{
	const struct mon_cmd *c;
	size_t w, nargs, i;

	if (!l->argc) {
		snprintf(msg, mlen, "no command; try 'monitor help'");
		return -EINVAL;
	}
	c = cmd_find(l, &w);
	if (!c) {
		struct rsp_mon_line first = *l;

		/* "set" alone or "set nonsense": a group's first word. */
		first.argc = 1;
		for (i = 0; i < NCMDS; i++) {
			if (!strchr(cmds[i].name, ' ') || !starts_with(&cmds[i], &first, 0))
				continue;
			if (l->argc == 1)
				snprintf(msg, mlen,
					 "'%.60s' needs more words; try 'monitor help %.60s'",
					 l->argv[0], l->argv[0]);
			else
				snprintf(msg, mlen,
					 "unknown: '%.60s %.60s'; try 'monitor help %.60s'",
					 l->argv[0], l->argv[1], l->argv[0]);
			return -ENOENT;
		}
		snprintf(msg, mlen, "unknown monitor command '%.60s'; try 'monitor help'",
			 l->argv[0]);
		return -ENOENT;
	}
	nargs = l->argc - w;
	if (nargs < c->min_args || nargs > c->max_args) {
		snprintf(msg, mlen, "usage: monitor %s%s%s", c->name, c->usage[0] ? " " : "",
			 c->usage);
		return -EINVAL;
	}
	return audit_tr__monitor(s->tr, c->name, l, c->fn(s, l, w, msg, mlen));
}

int mon__run(struct sess *s, const char *line)
{
	struct rsp_mon_line *l = malloc(sizeof(*l));
	char msg[256] = "";
	int err;

	if (!l)
		return -ENOMEM;
	err = rsp_mon_split(line, strlen(line), l, msg, sizeof(msg));
	/* A monitor reply may take its time: GDB and LLDB read O packets until it. */
	sess__debuginfod_window(s, true);
	if (!err)
		err = run(s, l, msg, sizeof(msg));
	sess__debuginfod_window(s, false);
	free(l);
	if (err)
		sess__console(s, "monitor: %s\n", msg[0] ? msg : strerror(-err));
	return err;
}
