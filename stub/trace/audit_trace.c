/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/audit_trace.c - the audit events of tracing (see audit_trace.h).
 *
 * Which event, with which fields, for each change to what is collected.
 * GDB defines a tracepoint over several packets (QTDP, its actions, then
 * QTDPsrc lines); each accepted packet is one event, so what the log shows
 * is what the stub was told, when it was told: "tp_define" (number,
 * address, enabled, pass count, whether a condition), "tp_actions" (GDB's
 * action text: registers, memory ranges, agent expressions as hex: the
 * definition, not what they collect) and "tp_source" (the user's own text:
 * "at" the location as typed, "cond", "cmd" such as "collect $args").
 * `monitor trace` is one "tp_define" with everything: the line as typed,
 * the location, the function, the condition and the expressions.
 *
 * Numbers are written as text: every audit value is a string.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rsp/buf.h"
#include "rsp/monitor.h"
#include "rsp/trace.h"
#include "stub/base/audit.h"
#include "stub/trace/audit_trace.h"
#include "stub/trace/montrace.h"
#include "stub/trace/retprobe.h"
#include "stub/trace/trace.h"

#define U(buf, v)   (snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)(v)), buf)
#define HEX(buf, v) (snprintf(buf, sizeof(buf), "0x%" PRIx64, (uint64_t)(v)), buf)

/* A hex blob (QTDPsrc text, QTDV name) as text, NUL-terminated; NULL on no memory. */
static char *unhex(const struct rsp_hexblob *b)
{
	char *s = malloc(b->len + 1);

	if (!s)
		return NULL;
	if (rsp_trace_hex_decode(b, (uint8_t *)s, b->len)) {
		free(s);
		return NULL;
	}
	s[b->len] = '\0';
	return s;
}

void audit_tr__tinit(struct trace *tr)
{
	const struct tp *tp;
	char n[24];
	size_t k = 0;

	if (!tr->audit)
		return;
	tr__foreach(tr, tp)
		k += !tp->kind->outlives_qtinit;
	audit__log(tr->audit, "tinit", "via", "gdb", "deleted_locations", U(n, k), NULL);
}

void audit_tr__qtdp(struct trace *tr, uint64_t num, uint64_t addr)
{
	struct tp *tp = tr->audit ? tr__find(tr, (uint32_t)num, addr) : NULL;
	char n[24], a[24], pass[24], cond[40];

	if (!tp)
		return;
	audit__log(
		tr->audit, "tp_define", "via", "gdb", "tp", U(n, num), "addr", HEX(a, addr),
		"enabled", tp->enabled ? "yes" : "no", "pass", U(pass, tp->pass), "cond",
		tp->condlen
			? (snprintf(cond, sizeof(cond), "%zu bytes of bytecode", tp->condlen), cond)
			: "none",
		NULL);
}

void audit_tr__qtdp_actions(struct trace *tr, uint64_t num, uint64_t addr, const char *wire,
			    size_t wlen)
{
	char n[24], a[24], *w;

	if (!tr->audit)
		return;
	w = strndup(wire, wlen);
	audit__log(tr->audit, "tp_actions", "via", "gdb", "tp", U(n, num), "addr", HEX(a, addr),
		   "actions", w ? w : "", NULL);
	free(w);
}

void audit_tr__qtdpsrc(struct trace *tr, const struct rsp_qtdpsrc *src)
{
	char n[24], a[24], *text;

	if (!tr->audit)
		return;
	text = unhex(&src->text);
	audit__log(tr->audit, "tp_source", "via", "gdb", "tp", U(n, src->num), "addr",
		   HEX(a, src->addr), "type", src->type, "text", text ? text : "", NULL);
	free(text);
}

void audit_tr__enable(struct trace *tr, uint32_t num, uint64_t addr, bool on)
{
	char n[24], a[24];

	audit__log(tr->audit, on ? "tp_enable" : "tp_disable", "via", "gdb", "tp", U(n, num),
		   "addr", HEX(a, addr), NULL);
}

void audit_tr__qtdv(struct trace *tr, const struct rsp_qtdv *v)
{
	char n[24], init[24], *name;

	/* The stub's own builtin variables, which GDB sends back: not a change. */
	if (!tr->audit || v->builtin)
		return;
	name = unhex(&v->name);
	snprintf(init, sizeof(init), "%" PRId64, v->value);
	audit__log(tr->audit, "tsv_define", "via", "gdb", "tsv", U(n, v->num), "name",
		   name ? name : "", "initial", init, NULL);
	free(name);
}

void audit_tr__gdb_setting(struct trace *tr, const char *name, uint64_t old, uint64_t now,
			   bool is_bool)
{
	char v[24];

	if (old == now)
		return;
	audit__log(tr->audit, "setting", "via", "gdb", "name", name, "value",
		   is_bool ? (now ? "on" : "off")
		   : now   ? U(v, now)
			   : "default",
		   NULL);
}

int audit_tr__tsave(struct trace *tr, const char *via, const char *file, int err, const char *msg)
{
	char n[24];

	audit__log(tr->audit, "tsave", "via", via, "file", file, "result", err ? "error" : "ok",
		   "why", err ? (msg && msg[0] ? msg : strerror(-err)) : "", "frames",
		   U(n, tf_store__count(&tr->store)), NULL);
	return err;
}

void audit_tr__started(struct trace *tr)
{
	struct rsp_buf nums;
	char locs[24], size[24], settings[240], bias[24], win[16];
	const struct tp *tp;
	size_t n = 0;

	if (!tr->audit)
		return;
	rsp_buf__init(&nums);
	tr__foreach(tr, tp) {
		const struct tp *o;
		bool first = true;

		if (!tp->enabled)
			continue;
		n++;
		/* Each number once, though it may have several locations. */
		for (o = tr__next(tr, NULL); o != tp && first; o = tr__next(tr, o))
			first = !(o->enabled && o->num == tp->num);
		if (first)
			rsp_buf__printf(&nums, "%s%u", nums.len ? "," : "", tp->num);
	}
	/* The settings the run collects with (monitor set, --max-hit-rate...); 0 is off. */
	if (tr->lat_bias == TR_LAT_BIAS_OFF || !tr->lat_bias)
		snprintf(bias, sizeof(bias), "%s", tr->lat_bias ? "off" : "auto");
	else
		snprintf(bias, sizeof(bias), "%u", tr->lat_bias);
	if (tr->stack_window == TR_STACK_WINDOW_FP)
		snprintf(win, sizeof(win), "fp");
	else
		snprintf(win, sizeof(win), "%u", tr->stack_window);
	snprintf(settings, sizeof(settings),
		 "deep-collect=%u stack-window=%s always-regs=%s max-hit-rate=%u max-overhead=%u "
		 "hit-cost=%u latency-bias=%s trace-timeout=%us",
		 tr->deep_budget, win, tr->always_regs ? "on" : "off", tr->max_hit_rate,
		 tr->max_overhead, tr->hit_cost_ns, bias, tr->trace_timeout);
	audit__log(tr->audit, "tstart", "tracepoints", nums.data ? nums.data : "", "locations",
		   U(locs, n), "buffer_size", tr->buf_size ? U(size, tr->buf_size) : "default",
		   "circular", tr->circular ? "on" : "off", "disconnected_tracing",
		   tr->disconnected_ok ? "on" : "off", "settings", settings, NULL);
	rsp_buf__free(&nums);
}

void audit_tr__stopped(struct trace *tr)
{
	/* tstop is the client's; at bpfstub's exit (a signal, --save-on-exit) it is not. */
	bool client = tr->state == TR_STOP_USER && audit__client(tr->audit);
	char frames[24], tp[24];

	audit__log(tr->audit, "tstop", "by", client ? "client" : "bpfstub", "reason",
		   tr__state_name(tr->state), "tp",
		   tr->state == TR_STOP_PASS ? U(tp, tr->stop_tp) : "", "why", tr->stop_msg,
		   "frames", U(frames, tf_store__count(&tr->store)), NULL);
}

void audit_tr__detached(struct trace *tr, const struct tp *tp, const char *why)
{
	char n[24], a[24];

	audit__log(tr->audit, "tp_detached", "by", "bpfstub", "tp", U(n, tp->num), "addr",
		   HEX(a, tp->addr), "why", why, NULL);
}

/* The words of l, single spaces. */
static void join(struct rsp_buf *b, const struct rsp_mon_line *l)
{
	size_t i;

	for (i = 0; i < l->argc; i++)
		rsp_buf__printf(b, "%s%s", i ? " " : "", l->argv[i]);
}

static void monitor_trace(struct trace *tr, const char *command)
{
	const struct tp *tp = tr->ntps ? &tr->tps[tr->ntps - 1] : NULL;
	const struct tp_mon *m = tp ? tp->mon : NULL;
	struct rsp_buf exprs;
	char n[24], a[24];
	size_t i;

	if (!tp)
		return;
	rsp_buf__init(&exprs);
	for (i = 0; m && i < m->nexprs; i++)
		rsp_buf__printf(&exprs, "%s%s", i ? ", " : "", m->exprs[i]);
	if (m)
		audit__log(tr->audit, "tp_define", "via", "monitor", "command", command, "tp",
			   U(n, tp->num), "addr", HEX(a, tp->addr), "location", m->where,
			   "function", m->func, "cond", m->cond ? m->cond : "", "collect",
			   exprs.data ? exprs.data : "", "collects", m->plan, NULL);
	else
		audit__log(tr->audit, "tp_define", "via", "monitor", "command", command, "tp",
			   U(n, tp->num), "addr", HEX(a, tp->addr), "function",
			   tp->ret ? tp->ret->func : "", NULL);
	rsp_buf__free(&exprs);
}

int audit_tr__monitor(struct trace *tr, const char *name, const struct rsp_mon_line *l, int err)
{
	struct rsp_buf cmd;

	if (err || !tr->audit)
		return err;
	if (strcmp(name, "trace") && strcmp(name, "trace -return") && strcmp(name, "tdelete") &&
	    strncmp(name, "set ", 4))
		return err;
	rsp_buf__init(&cmd);
	join(&cmd, l);
	if (!cmd.data)
		return err;
	if (!strncmp(name, "trace", 5))
		monitor_trace(tr, cmd.data);
	else if (!strcmp(name, "tdelete"))
		audit__log(tr->audit, "tp_delete", "via", "monitor", "command", cmd.data, "tp",
			   l->argv[l->argc - 1], NULL);
	else
		audit__log(tr->audit, "setting", "via", "monitor", "command", cmd.data, "name",
			   name + 4, "value", l->argv[l->argc - 1], NULL);
	rsp_buf__free(&cmd);
	return err;
}

const struct tr_events audit_tr__events = {
	.started = audit_tr__started,
	.stopped = audit_tr__stopped,
	.detached = audit_tr__detached,
};
