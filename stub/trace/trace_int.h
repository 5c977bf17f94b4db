/* SPDX-License-Identifier: MIT */
/*
 * stub/trace/trace_int.h - what stub/trace/trace.c, stub/trace/trace_run.c and
 * stub/trace/trace_prog.c share, and nothing else includes.
 *
 * trace.c owns the trace (definitions, the run, stop reasons, replies);
 * trace_prog.c turns one of its locations into a loaded, attached BPF
 * program and back.  The bound on locations and variables sizes the BPF
 * maps trace.c creates and the slot table trace_prog.c fills, so it lives
 * here, as does the test both sides make of a builtin variable.
 */
#ifndef STUB_TRACE_INT_H
#define STUB_TRACE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stub/trace/trace.h"

#define TR_MAX_TPS 2048 /* locations, and trace state variables */

/* A builtin variable still ours: a number GDB gave to one of its own is not. */
static inline bool tr_int__is_builtin(struct trace *tr, uint32_t num)
{
	const struct tp_tsv *v = tr__find_tsv(tr, num);

	return v && v->builtin;
}

/* Build and load tp's BPF program (not attached yet); msg says why not. */
int tr_prog__load(struct trace *tr, struct tp *tp, char *msg, size_t mlen);
/* Attach tp's loaded program: from now on it collects. */
int tr_prog__attach(struct trace *tr, struct tp *tp, char *msg, size_t mlen);
/* Load and attach an enabled tp that is not installed yet. */
int tr_prog__install(struct trace *tr, struct tp *tp, char *msg, size_t mlen);
/* Detach and free tp's program (loaded by a QTStart that failed, too). */
void tr_prog__uninstall(struct tp *tp);

/* Drain every record written so far into the store (trace_run.c; not inside a drain). */
void tr_run__drain_all(struct trace *tr);

#endif /* STUB_TRACE_INT_H */
