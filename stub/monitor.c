/* SPDX-License-Identifier: MIT */
/*
 * stub/monitor.c - bpfstub's `monitor` commands, in one table.
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
 * (stub/trace.h), and applies to tracepoints installed after the change.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"
#include "rsp/monitor.h"
#include "deep.h"
#include "monitor.h"
#include "retprobe.h"
#include "session.h"
#include "trace.h"

struct mon_cmd {
	const char *name;  /* words, single spaces */
	const char *usage; /* the arguments, "" for none */
	const char *help;  /* one line */
	size_t min_args, max_args;
	/* Words l->argv[arg..argc) are the arguments.  -errno with msg set: an error line. */
	int (*fn)(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg, size_t mlen);
};

/* ---- settings ----------------------------------------------------------- */

static const struct mon_setting {
	const char *name;
	size_t field; /* offsetof a uint32_t in struct trace */
	uint32_t max, dflt;
	const char *what; /* "<value> <what>" in show and status */
} settings[] = {
	{"deep-collect", offsetof(struct trace, deep_budget), TR_DEEP_BUDGET_MAX,
	 TR_DEEP_BUDGET_DEFAULT, "bytes per hit of what the arguments point to (DWARF)"},
	{"stack-window", offsetof(struct trace, stack_window), TR_STACK_WINDOW_MAX,
	 TR_STACK_WINDOW_DEFAULT, "bytes of stack above rsp per frame, for bt in tfind"},
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static uint32_t *setting_ptr(struct trace *tr, const struct mon_setting *st)
{
	return (uint32_t *)((char *)tr + st->field);
}

static void show_setting(struct sess *s, const struct mon_setting *st)
{
	uint32_t v = *setting_ptr(s->tr, st);

	if (v)
		sess__console(s, "%s: %u %s\n", st->name, v, st->what);
	else
		sess__console(s, "%s: off\n", st->name);
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
	const struct mon_setting *st = NULL;
	char what[64];
	uint64_t v;
	size_t i;
	int err;

	/* The row's name is "set NAME": the word before the value. */
	for (i = 0; i < NSETTINGS; i++)
		if (!strcmp(l->argv[arg - 1], settings[i].name))
			st = &settings[i];
	if (!st)
		return -ENOENT; /* a row without a setting: a bug in the tables */
	snprintf(what, sizeof(what), "set %s", st->name);
	err = rsp_mon_number(l->argv[arg], what, true, true, 0, st->max, &v, msg, mlen);
	if (err)
		return err;
	*setting_ptr(s->tr, st) = (uint32_t)v;
	show_setting(s, st);
	if (tr__running(s->tr))
		sess__console(s,
			      "(tracepoints installed from now on; those running keep theirs)\n");
	return 0;
}

/* ---- status ------------------------------------------------------------- */

static const char *const run_state[] = {
	[TR_NOT_RUN] = "not run",
	[TR_RUNNING] = "running",
	[TR_STOP_USER] = "stopped by tstop",
	[TR_STOP_FULL] = "stopped: trace buffer full",
	[TR_STOP_PASS] = "stopped: pass count reached",
	[TR_STOP_ERROR] = "stopped by an error",
	[TR_STOP_DISCONNECTED] = "stopped: client disconnected",
};

static int mon_status(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		      size_t mlen)
{
	struct trace *tr = s->tr;
	struct tgt_thread *th = NULL;
	char exe[4096] = "?";
	size_t n = 0, i;

	tgt__exe_path(s->tgt, exe, sizeof(exe));
	tgt__threads(s->tgt, &th, &n);
	free(th);
	tr__poll(tr);
	sess__console(s,
		      "target: pid %d (%s), %s, %zu threads, %s\n"
		      "client: %s, %s mode, %s thread ids\n"
		      "tracing: %s%s%s; %zu frames in a %zu-byte %s buffer (%zu bytes free)",
		      s->tgt->pid, exe, s->tgt->launched ? "launched" : "attached", n,
		      tgt__alive(s->tgt) ? "running, never stopped" : "exited",
		      s->lldb ? "LLDB" : "GDB", s->nonstop ? "non-stop" : "all-stop",
		      s->multiprocess ? "multiprocess" : "plain", run_state[tr->state],
		      tr->stop_msg[0] ? ": " : "", tr->stop_msg, tf_store__count(&tr->store),
		      tr->store.size, tr->circular ? "circular" : "linear",
		      tf_store__free(&tr->store));
	if (tr->lost)
		sess__console(s, "; %llu frames lost (buffer full)", (unsigned long long)tr->lost);
	sess__console(s, "\n");
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
	}
	/* Deep collection's own lines: what each tracepoint covers, or why nothing deeper. */
	{
		struct rsp_buf b;

		rsp_buf__init(&b);
		if (!deep__status(tr, &b) && b.data)
			sess__console(s, "%s", b.data);
		rsp_buf__free(&b);
	}
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

/* The run, for clients without tracepoint commands (LLDB) and for
 * definitions GDB does not know of (GDB's tstart needs one of its own). */
static int mon_tstart(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		      size_t mlen)
{
	int err = tr__start(s->tr, msg, mlen);

	if (!err)
		sess__console(s, "trace started\n");
	return err;
}

static int mon_tstop(struct sess *s, const struct rsp_mon_line *l, size_t arg, char *msg,
		     size_t mlen)
{
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
	{"set stack-window", "off|BYTES",
	 "bytes of the hitting thread's stack above rsp each frame holds, so bt in tfind "
	 "shows the callers (0..8192, default 2048)",
	 1, 1, mon_set},
	{"tstart", "", "start the trace run (every enabled tracepoint)", 0, 0, mon_tstart},
	{"tstop", "", "stop the trace run, keeping its frames", 0, 0, mon_tstop},
	{"trace -return", "FUNC",
	 "a tracepoint on every return instruction of FUNC (C name, Go main.f or "
	 "pkg.(*T).M): registers, return values and $latency_ns since the same thread's "
	 "(Go: goroutine's) entry",
	 1, RSP_MON_WORDS_MAX, mon_trace_return},
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
		char head[64];

		if (!starts_with(&cmds[i], l, arg))
			continue;
		snprintf(head, sizeof(head), "%s%s%s", cmds[i].name, cmds[i].usage[0] ? " " : "",
			 cmds[i].usage);
		sess__console(s, "  %-28s %s\n", head, cmds[i].help);
		shown++;
	}
	if (!shown) {
		snprintf(msg, mlen, "no monitor command starts with '%.60s'", l->argv[arg]);
		return -ENOENT;
	}
	if (arg == l->argc)
		sess__console(s, "bpfstub never stops the target: memory is read live, writes and "
				 "breakpoints are refused.\n");
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
	return c->fn(s, l, w, msg, mlen);
}

int mon__run(struct sess *s, const char *line)
{
	struct rsp_mon_line *l = malloc(sizeof(*l));
	char msg[256] = "";
	int err;

	if (!l)
		return -ENOMEM;
	err = rsp_mon_split(line, strlen(line), l, msg, sizeof(msg));
	if (!err)
		err = run(s, l, msg, sizeof(msg));
	free(l);
	if (err)
		sess__console(s, "monitor: %s\n", msg[0] ? msg : strerror(-err));
	return err;
}
