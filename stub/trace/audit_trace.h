/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/audit_trace.h - the audit events of tracing (stub/base/audit.h), each a
 * one-line hook where the change is made: GDB's packets
 * (handlers_trace.c), monitor commands (monitor.c), and the changes the
 * stub makes itself (a run starts or ends, the guard detached a tracepoint:
 * these three the trace calls through tr->events, audit_tr__events, so
 * the trace core never calls up into this file).  Each takes the trace,
 * whose tr->audit (NULL: nothing logged) and tr->events server.c sets.  They log definitions,
 * settings, names and counts; never anything collected.
 */
#ifndef STUB_AUDIT_TRACE_H
#define STUB_AUDIT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace;
struct tp;
struct rsp_qtdpsrc;
struct rsp_qtdv;
struct rsp_mon_line;
struct tr_events;

/* QTinit, before tr__clear: "tinit" with how many GDB locations go. */
void audit_tr__tinit(struct trace *tr);
/* QTDP header accepted: "tp_define" (via gdb). */
void audit_tr__qtdp(struct trace *tr, uint64_t num, uint64_t addr);
/* QTDP actions accepted: "tp_actions", GDB's action text. */
void audit_tr__qtdp_actions(struct trace *tr, uint64_t num, uint64_t addr, const char *wire,
			    size_t wlen);
/* QTDPsrc accepted: "tp_source", the text as the user typed it. */
void audit_tr__qtdpsrc(struct trace *tr, const struct rsp_qtdpsrc *src);
/* QTEnable / QTDisable accepted: "tp_enable" / "tp_disable". */
void audit_tr__enable(struct trace *tr, uint32_t num, uint64_t addr, bool on);
/* QTDV accepted: "tsv_define". */
void audit_tr__qtdv(struct trace *tr, const struct rsp_qtdv *v);
/* A trace setting GDB sent (QTBuffer, QTDisconnected): "setting" if it changed. */
void audit_tr__gdb_setting(struct trace *tr, const char *name, uint64_t old, uint64_t now,
			   bool is_bool);
/* tsave (QTSave, --save-on-exit): "tsave" with the file and the result.  Returns err. */
int audit_tr__tsave(struct trace *tr, const char *via, const char *file, int err, const char *msg);
/* A run started (end of tr__start): "tstart". */
void audit_tr__started(struct trace *tr);
/* A run ended, for whatever reason (tr__stop, once): "tstop". */
void audit_tr__stopped(struct trace *tr);
/* The overhead guard detached tp: "tp_detached", by=bpfstub. */
void audit_tr__detached(struct trace *tr, const struct tp *tp, const char *why);
/*
 * A monitor command ran (monitor.c run(), name its table row): the ones
 * that change what is collected are logged ("tp_define", "tp_delete",
 * "setting") with the line as typed.  Returns err, to wrap the call.
 */
/* What server.c sets as tr->events: started, stopped and detached above. */
extern const struct tr_events audit_tr__events;

int audit_tr__monitor(struct trace *tr, const char *name, const struct rsp_mon_line *l, int err);

#endif
